-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, sum(u.admin::int) AS admins FROM users u
