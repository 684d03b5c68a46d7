-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.visibility_level, count(*) AS n, sum(e.action * extract(epoch FROM e.created_at)) AS mix FROM events e JOIN projects p ON p.id = e.project_id GROUP BY 1
