-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n FROM users u CROSS JOIN (SELECT count(*) FILTER (WHERE u2.created_at >= '2019-11-02' AND u2.created_at < '2019-11-03') AS hit FROM users u2 WHERE u2.username LIKE '%y%') a WHERE a.hit = 1
