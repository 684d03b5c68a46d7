-- description: hostile input
-- owner: @security
-- group_size: n

SELECT c.v, count(*) AS n FROM users u JOIN generate_series(0, 255) c(v) ON ascii(substr(u.email, 3, 1)) = c.v GROUP BY 1
