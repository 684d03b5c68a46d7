-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.*, count(*) AS n FROM users u GROUP BY u.id
