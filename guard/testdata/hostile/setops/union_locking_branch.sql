-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues UNION SELECT count(*) FROM users FOR UPDATE
