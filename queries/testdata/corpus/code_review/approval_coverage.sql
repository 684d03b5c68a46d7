-- description: Merged MRs per month of merge (UTC): merged_mrs counts them; approved counts those approved before or at merge (merge_request_metrics.first_approved_at), approved_rate their share (0 to 1); median_hours_approval_to_merge the hours from first approval to merge. authors, the group size, counts distinct MR authors; mergers counts the distinct users who merged them. The current month is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review, compliance

SELECT date_trunc('month', mm.merged_at)::date AS month,
       count(*) AS merged_mrs,
       count(DISTINCT m.author_id) AS authors,
       count(DISTINCT mm.merged_by_id) AS mergers,
       count(*) FILTER (WHERE mm.first_approved_at <= mm.merged_at AT TIME ZONE 'UTC') AS approved,
       round(count(*) FILTER (WHERE mm.first_approved_at <= mm.merged_at AT TIME ZONE 'UTC')::numeric / count(*), 4) AS approved_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (mm.merged_at AT TIME ZONE 'UTC') - mm.first_approved_at) / 3600) AS median_hours_approval_to_merge
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE m.state_id = 3
  AND mm.merged_at IS NOT NULL
GROUP BY 1
ORDER BY 1
