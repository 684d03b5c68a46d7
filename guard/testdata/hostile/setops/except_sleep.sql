-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues EXCEPT SELECT count(*) FROM issues WHERE pg_sleep(1) IS NULL
