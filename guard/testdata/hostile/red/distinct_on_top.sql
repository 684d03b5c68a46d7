-- description: hostile input
-- owner: @security
-- group_size: n

SELECT DISTINCT ON (email) email, count(*) AS n FROM users GROUP BY 1
