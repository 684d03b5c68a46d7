-- description: hostile input
-- owner: @security
-- group_size: n

SELECT max(encrypted_password) AS m, count(*) AS n FROM users
