-- description: Where merged MRs spend their time, per month of merge (UTC): merged_mrs counts them; median_hours_coding (first commit to MR creation), median_hours_to_pickup (creation to first comment), median_hours_in_review (first comment to first approval) and median_hours_to_merge_after_approval (first approval to merge). authors, the group size, counts distinct MR authors. The current month is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, code_review

-- merge_requests.created_at and merged_at are UTC timestamps without a time
-- zone; the other three are timestamps with one.
WITH stages AS (
    SELECT m.author_id,
           mm.merged_at,
           m.created_at AT TIME ZONE 'UTC' AS created_utc,
           mm.merged_at AT TIME ZONE 'UTC' AS merged_utc,
           mm.first_commit_at,
           mm.first_comment_at,
           mm.first_approved_at
    FROM merge_requests m
    JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
    WHERE m.state_id = 3
      AND mm.merged_at IS NOT NULL
)
SELECT date_trunc('month', merged_at)::date AS month,
       count(*) AS merged_mrs,
       count(DISTINCT author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_utc - first_commit_at) / 3600) AS median_hours_coding,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_comment_at - created_utc) / 3600) AS median_hours_to_pickup,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_approved_at - first_comment_at) / 3600) AS median_hours_in_review,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM merged_utc - first_approved_at) / 3600) AS median_hours_to_merge_after_approval
FROM stages
GROUP BY 1
ORDER BY 1
