-- description: hostile input
-- owner: @security
-- group_size: n

SELECT date_trunc('microseconds', p.created_at) AS t, count(*) AS n FROM issues i JOIN projects p ON p.id = i.project_id GROUP BY 1
