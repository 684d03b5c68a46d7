-- description: hostile input
-- owner: @security
-- group_size: n

SELECT (ARRAY[email])[1] AS e, count(*) AS n FROM users GROUP BY 1
