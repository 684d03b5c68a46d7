-- description: hostile input
-- owner: @security
-- group_size: n

SELECT (SELECT title FROM issues LIMIT 1) AS t, count(*) AS n FROM issues
