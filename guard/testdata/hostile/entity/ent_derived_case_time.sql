-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.visibility_level, count(*) AS n, sum(s.v) AS leak FROM (SELECT e.project_id, sum(CASE WHEN e.created_at = '2026-01-01 10:00:00' THEN e.action ELSE 0 END) AS v FROM events e GROUP BY e.project_id) s JOIN projects p ON p.id = s.project_id GROUP BY 1
