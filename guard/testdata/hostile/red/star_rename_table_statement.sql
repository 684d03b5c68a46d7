-- description: hostile input
-- owner: @security
-- group_size: n

SELECT x, count(*) AS n FROM (TABLE users) s(a, x) GROUP BY 1
