-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM users WHERE en­crypted_password IS NULL
