-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE U&"pg_\0073leep"(1) IS NULL
