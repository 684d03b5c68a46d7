-- description: x
-- owner: @security
-- group_size: email

SELECT email, count(*) AS n FROM users GROUP BY 1
