-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE CAST('postgres' AS regrole) IS NOT NULL
