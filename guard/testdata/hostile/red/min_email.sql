-- description: hostile input
-- owner: @security
-- group_size: n

SELECT min(email) AS m, count(*) AS n FROM users
