-- description: hostile input
-- owner: @security
-- group_size: n

SELECT 'x' AS k, count(*) AS n FROM issues UNION SELECT email, count(*) FROM users GROUP BY 1
