-- description: hostile input
-- owner: @security
-- group_size: n
-- DELETE FROM users;

SELECT count(*) AS n FROM issues
