-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS state, count(DISTINCT u.id) AS n, sum(s.x) AS x FROM users u JOIN LATERAL (SELECT 0 AS x UNION ALL SELECT u.sign_in_count AS x WHERE u.username LIKE 'creyes%') s ON true GROUP BY 1
