-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, sum(u.sign_in_count) AS s FROM users u, generate_series(1, 2) g WHERE g.g = 1 OR u.admin
