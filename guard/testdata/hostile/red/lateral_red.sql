-- description: hostile input
-- owner: @security
-- group_size: n

SELECT lower(x) AS l, count(*) AS n FROM users u CROSS JOIN LATERAL (SELECT u.email AS x) q GROUP BY 1
