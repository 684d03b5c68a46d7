-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT i.author_id) AS n, count(*) FILTER (WHERE (i.project_id = 8) >= (i.state_id = 2)) AS s FROM issues i
