-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues /* */ ; DELETE FROM users
