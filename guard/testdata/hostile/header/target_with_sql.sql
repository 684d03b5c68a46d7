-- description: hostile input
-- owner: @security
-- group_size: n
-- target: t; DROP TABLE users

SELECT count(*) AS n FROM issues
