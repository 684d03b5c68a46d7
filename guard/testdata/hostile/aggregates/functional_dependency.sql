-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.id, p.name, count(*) AS n FROM projects p GROUP BY p.id
