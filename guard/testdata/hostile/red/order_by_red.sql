-- description: hostile input
-- owner: @security
-- group_size: n

SELECT state, count(*) AS n FROM users GROUP BY state ORDER BY max(email)
