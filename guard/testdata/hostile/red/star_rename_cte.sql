-- description: hostile input
-- owner: @security
-- group_size: n

WITH w(a, b, c, x) AS (SELECT * FROM users) SELECT x, count(*) AS n FROM w GROUP BY 1
