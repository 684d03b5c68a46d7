-- description: hostile input
-- owner: @security
-- group_size: n
-- timeout: 10m'; SELECT pg_sleep(100); --

SELECT count(*) AS n FROM issues
