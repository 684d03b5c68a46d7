-- description: hostile input
-- owner: @security
-- group_size: n

SELECT U&"\0065mail" AS x, count(*) AS n FROM users GROUP BY 1
