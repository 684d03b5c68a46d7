-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, rank(true, timestamp '2014-01-15 00:00:00', 3) WITHIN GROUP (ORDER BY u.admin, u.created_at, u.sign_in_count) AS r FROM users u
