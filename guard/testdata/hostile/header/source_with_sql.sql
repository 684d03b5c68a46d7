-- description: hostile input
-- owner: @security
-- group_size: n
-- source: main; DROP TABLE users

SELECT count(*) AS n FROM issues
