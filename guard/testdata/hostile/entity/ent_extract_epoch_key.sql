-- description: hostile input
-- owner: @security
-- group_size: n

SELECT extract(epoch FROM p.created_at) AS t, count(*) AS n FROM issues i JOIN projects p ON p.id = i.project_id GROUP BY 1
