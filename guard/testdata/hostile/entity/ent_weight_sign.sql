-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.visibility_level, count(*) AS n, sum(e.action * (1 - sign(abs(extract(epoch FROM e.created_at) - 1700000000)))) AS leak FROM events e JOIN projects p ON p.id = e.project_id GROUP BY 1
