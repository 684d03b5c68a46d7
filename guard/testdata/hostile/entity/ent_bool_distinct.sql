-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, count(*) FILTER (WHERE (u.username LIKE 'creyes%') IS DISTINCT FROM (u.sign_in_count > 100)) AS s FROM users u
