-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, cume_dist(true) WITHIN GROUP (ORDER BY u.admin) AS r FROM users u
