-- description: hostile input
-- owner: @security
-- group_size: n

SELECT title, count(*) AS n FROM issues
