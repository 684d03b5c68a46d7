-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.w AS hits, count(*) AS n FROM (SELECT u.id, count((SELECT 1 FROM users x WHERE x.id = u.id AND x.username LIKE 'creyes%')) OVER (PARTITION BY u.state) AS w FROM users u) s GROUP BY 1
