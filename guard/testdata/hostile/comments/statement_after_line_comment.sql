-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues; -- the end
DROP TABLE users
