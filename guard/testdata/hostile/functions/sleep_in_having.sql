-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues HAVING pg_sleep(1) IS NULL
