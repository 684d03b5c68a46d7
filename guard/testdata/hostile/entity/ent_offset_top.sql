-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS s, count(DISTINCT u.id) AS n FROM users u GROUP BY 1 ORDER BY 2 OFFSET 1
