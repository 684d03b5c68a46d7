-- description: hostile input
-- owner: @security
-- group_size: n

SELECT greatest(email, '') AS g, count(*) AS n FROM users GROUP BY 1
