-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n FROM users u WHERE u.email LIKE 'alice@example.com'
