-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, count(*) FILTER (WHERE (u.username LIKE 'creyes%') IS NOT TRUE) AS s FROM users u
