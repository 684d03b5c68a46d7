-- description: x
-- owner: @security
-- group_size: n; DROP TABLE users

SELECT count(*) AS n FROM issues
