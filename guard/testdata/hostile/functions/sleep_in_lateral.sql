-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues, LATERAL (SELECT pg_sleep(1)) s
