-- description: DORA lead time for changes per quarter of first production deployment (UTC) and MR size (lines added plus removed: under 100, 100 to 499, 500 or more): mrs counts merged MRs that reached production; median_hours and p90_hours run from merge to the first production deployment. authors, the group size, counts distinct MR authors. The current quarter is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: dora, value_stream

SELECT date_trunc('quarter', mm.first_deployed_to_production_at)::date AS quarter,
       CASE
           WHEN coalesce(mm.added_lines, 0) + coalesce(mm.removed_lines, 0) < 100 THEN 'small'
           WHEN coalesce(mm.added_lines, 0) + coalesce(mm.removed_lines, 0) < 500 THEN 'medium'
           ELSE 'large'
       END AS mr_size,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.first_deployed_to_production_at - mm.merged_at) / 3600) AS median_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM mm.first_deployed_to_production_at - mm.merged_at) / 3600) AS p90_hours
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE m.state_id = 3
  AND mm.merged_at IS NOT NULL
  AND mm.first_deployed_to_production_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
