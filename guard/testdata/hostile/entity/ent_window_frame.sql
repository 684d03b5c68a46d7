-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.w AS stretch, count(*) AS n FROM (SELECT u.id, row_number() OVER (PARTITION BY u.state ORDER BY u.id ROWS BETWEEN UNBOUNDED PRECEDING AND 9 PRECEDING) AS w FROM users u) s WHERE s.w = 1 GROUP BY 1
