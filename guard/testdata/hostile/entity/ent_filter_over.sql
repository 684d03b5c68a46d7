-- description: hostile input
-- owner: @security
-- group_size: n

SELECT avg(s.b) AS banned, count(*) AS n FROM (SELECT u.id, count(*) FILTER (WHERE u.state = 'banned') OVER () AS b FROM users u) s
