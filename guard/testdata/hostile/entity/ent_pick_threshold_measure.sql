-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, min(u.sign_in_count) FILTER (WHERE u.sign_in_count >= 41 AND u.current_sign_in_ip LIKE '2%') AS hit FROM users u
