-- description: hostile input
-- owner: @security
-- group_size: n

SELECT leak(email) AS x, count(*) AS n FROM users GROUP BY 1
