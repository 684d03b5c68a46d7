-- description: hostile input
-- owner: @security
-- group_size: n

SELECT coalesce(email, '') AS e, count(*) AS n FROM users GROUP BY 1
