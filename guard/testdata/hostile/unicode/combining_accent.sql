-- description: hostile input
-- owner: @security
-- group_size: n

SELECT émail, count(*) AS n FROM users GROUP BY 1
