-- description: hostile input
-- owner: @security
-- group_size: n

SELECT r, count(*) AS n FROM (SELECT rank() OVER (ORDER BY u.email) AS r FROM users u) s GROUP BY 1
