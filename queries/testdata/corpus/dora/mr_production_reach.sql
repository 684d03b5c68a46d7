-- description: Merged MRs per month of merge (UTC) and project visibility (private, internal, public): merged_mrs counts them; deployed_to_production counts those that reached a production environment (merge_request_metrics.first_deployed_to_production_at), production_rate their share (0 to 1). authors, the group size, counts distinct MR authors. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: dora, value_stream

SELECT date_trunc('month', mm.merged_at)::date AS month,
       CASE p.visibility_level WHEN 0 THEN 'private' WHEN 10 THEN 'internal' WHEN 20 THEN 'public' ELSE 'other' END AS visibility,
       count(*) AS merged_mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE mm.first_deployed_to_production_at IS NOT NULL) AS deployed_to_production,
       round(count(*) FILTER (WHERE mm.first_deployed_to_production_at IS NOT NULL)::numeric / count(*), 4) AS production_rate
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
JOIN projects p ON p.id = m.target_project_id
WHERE m.state_id = 3
  AND mm.merged_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
