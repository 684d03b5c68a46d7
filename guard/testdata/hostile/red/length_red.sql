-- description: hostile input
-- owner: @security
-- group_size: n

SELECT length(encrypted_password) AS l, count(*) AS n FROM users GROUP BY 1
