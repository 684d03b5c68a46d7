-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM u.created_at) * 1000000000 + u.sign_in_count) AS packed FROM users u
