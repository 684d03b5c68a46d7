-- description: hostile input
-- owner: @security
-- group_size: n

SELECT lower(email) AS d, count(*) AS n FROM users GROUP BY 1
