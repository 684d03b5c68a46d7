-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, min(extract(epoch FROM u.created_at) * 1000000000 + u.sign_in_count) FILTER (WHERE u.created_at >= '2021-05-03') AS packed FROM users u
