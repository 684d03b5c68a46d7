-- description: hostile input
-- owner: @security
-- group_size: n
-- max_rows: 1; DROP TABLE users

SELECT count(*) AS n FROM issues
