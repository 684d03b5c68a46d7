-- description: hostile input
-- owner: @security
-- group_size: n

SELECT substring(email from 1 for 1) AS c, count(*) AS n FROM users GROUP BY 1
