-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.w AS stretch, count(*) AS n FROM (SELECT u.id, count(u.id) OVER (PARTITION BY u.state ORDER BY u.id) AS w FROM users u) s GROUP BY 1
