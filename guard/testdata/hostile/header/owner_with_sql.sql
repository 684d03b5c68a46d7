-- description: x
-- owner: @security');DROP TABLE users;--
-- group_size: n

SELECT count(*) AS n FROM issues
