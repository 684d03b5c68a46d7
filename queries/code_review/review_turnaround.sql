-- description: Review turnaround per month of MR creation (UTC), non-draft MRs: mrs counts them; median/p90_hours_to_first_comment are the hours from creation to the first comment (merge_request_metrics.first_comment_at) of MRs that have one; median/p90_hours_to_first_approval the same for the first approval; commented_within_24h_rate and approved_rate are shares of all the month's MRs (0 to 1). authors, the group size, counts distinct MR authors. Recent months still fill in.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review, stage::create

-- first_comment_at and first_approved_at are timestamps with time zone,
-- merge_requests.created_at a UTC timestamp without one.
SELECT date_trunc('month', r.created_at)::date AS month,
       count(*) AS mrs,
       count(DISTINCT r.author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.first_comment_at - r.created_utc) / 3600) AS median_hours_to_first_comment,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM r.first_comment_at - r.created_utc) / 3600) AS p90_hours_to_first_comment,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.first_approved_at - r.created_utc) / 3600) AS median_hours_to_first_approval,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM r.first_approved_at - r.created_utc) / 3600) AS p90_hours_to_first_approval,
       avg(CASE WHEN r.first_comment_at <= r.created_utc + interval '24 hours' THEN 1.0 ELSE 0.0 END) AS commented_within_24h_rate,
       avg(CASE WHEN r.first_approved_at IS NOT NULL THEN 1.0 ELSE 0.0 END) AS approved_rate
FROM (
    SELECT m.created_at,
           m.created_at AT TIME ZONE 'UTC' AS created_utc,
           m.author_id,
           mm.first_comment_at,
           mm.first_approved_at
    FROM merge_requests m
    JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
    WHERE NOT m.draft
) r
GROUP BY 1
ORDER BY 1
