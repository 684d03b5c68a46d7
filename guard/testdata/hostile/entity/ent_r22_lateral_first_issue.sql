-- description: hostile input
-- owner: @security
-- group_size: n

-- A LATERAL correlated by a project id picks the project's first issue
-- time for every event of it; grouped by, it is one issue's instant.
SELECT date_trunc('hour', s.t) AS h, count(DISTINCT e.author_id) AS n
FROM events e
JOIN LATERAL (SELECT min(x.created_at) AS t FROM issues x WHERE x.project_id = e.project_id) s ON true
GROUP BY 1
