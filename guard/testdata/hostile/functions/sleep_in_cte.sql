-- description: hostile input
-- owner: @security
-- group_size: n

WITH s AS (SELECT pg_sleep(1)) SELECT count(*) AS n FROM issues, s
