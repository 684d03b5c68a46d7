-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS state, count(DISTINCT u.id) AS n, sum(s.c) AS x FROM users u JOIN LATERAL (SELECT count(*) AS c FROM generate_series(1, 1) g WHERE u.username LIKE 'creye_') s ON true GROUP BY 1
