-- description: Merged MRs per quarter of merge (UTC), split by first_contribution (GitLab's flag for an author's first contribution to the project): merged_mrs counts them; median_hours_to_merge, p90_hours_to_merge and median_hours_to_first_comment describe how long they waited. authors, the group size, counts distinct MR authors. The current quarter is partial.
-- owner: @gitlab-org/developer-relations
-- group_size: authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: code_review, community

SELECT date_trunc('quarter', mm.merged_at)::date AS quarter,
       mm.first_contribution,
       count(*) AS merged_mrs,
       count(DISTINCT m.author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS median_hours_to_merge,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS p90_hours_to_merge,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.first_comment_at - (m.created_at AT TIME ZONE 'UTC')) / 3600) AS median_hours_to_first_comment
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE m.state_id = 3
  AND mm.merged_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
