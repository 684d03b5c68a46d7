-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE title ~ '(a+)+$' AND pg_sleep(1) IS NULL
