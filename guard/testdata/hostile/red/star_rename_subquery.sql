-- description: hostile input
-- owner: @security
-- group_size: n

SELECT x, count(*) AS n FROM (SELECT * FROM users) s(a, b, c, x) GROUP BY 1
