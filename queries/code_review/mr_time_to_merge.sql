-- description: Merged MRs per month of merge (UTC): merged_mrs counts them; median_hours and p90_hours are the hours from the MR's creation to its merge (merge_request_metrics.merged_at); median_commits the median number of commits. authors, the group size, counts the distinct MR authors. All projects, all visibility levels. The current month is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review, stage::create

SELECT date_trunc('month', mm.merged_at)::date AS month,
       count(*) AS merged_mrs,
       count(DISTINCT m.author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS median_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS p90_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY mm.commits_count) AS median_commits
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE m.state_id = 3
  AND mm.merged_at IS NOT NULL
GROUP BY 1
ORDER BY 1
