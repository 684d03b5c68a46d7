-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.visibility_level, count(*) AS n, sum(power(extract(epoch FROM e.created_at) - 1700000000, 2)) AS m2 FROM events e JOIN projects p ON p.id = e.project_id GROUP BY 1
