-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.visibility_level, count(*) AS n, sum(s.w) AS leak FROM (SELECT e.project_id, e.action * (1 - sign(abs(extract(epoch FROM e.created_at) - 1700000000))) AS w FROM events e) s JOIN projects p ON p.id = s.project_id GROUP BY 1
