-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.c AS c, count(*) AS n FROM (SELECT u.id AS uid, count(u.current_sign_in_at) OVER () AS c FROM users u) s GROUP BY 1
