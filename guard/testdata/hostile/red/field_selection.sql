-- description: hostile input
-- owner: @security
-- group_size: n

SELECT (u).email AS e, count(*) AS n FROM users u GROUP BY 1
