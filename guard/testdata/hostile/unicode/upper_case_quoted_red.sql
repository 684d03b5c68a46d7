-- description: hostile input
-- owner: @security
-- group_size: n

SELECT "EMAIL" AS x, count(*) AS n FROM users GROUP BY 1
