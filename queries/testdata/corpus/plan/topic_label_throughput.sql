-- description: Issues per quarter of creation (UTC) and topic label, for the shared topic labels only (documentation, frontend, backend, database, security, UX, performance): issues counts distinct issues with the label, closed those closed at the snapshot, projects their distinct projects. issue_authors, the group size, counts distinct issue authors. An issue with several topic labels counts under each. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan

SELECT date_trunc('quarter', i.created_at)::date AS quarter,
       l.title AS topic,
       count(DISTINCT i.id) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(DISTINCT i.id) FILTER (WHERE i.state_id = 2) AS closed,
       count(DISTINCT i.project_id) AS projects
FROM issues i
JOIN label_links ll ON ll.target_id = i.id AND ll.target_type = 'Issue'
JOIN labels l ON l.id = ll.label_id
WHERE l.title IN ('documentation', 'frontend', 'backend', 'database', 'security', 'UX', 'performance')
GROUP BY 1, 2
ORDER BY 1, 2
