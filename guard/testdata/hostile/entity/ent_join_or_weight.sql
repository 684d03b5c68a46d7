-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, sum(u.sign_in_count) AS s FROM users u JOIN generate_series(1, 2) g ON g.g = 1 OR u.admin
