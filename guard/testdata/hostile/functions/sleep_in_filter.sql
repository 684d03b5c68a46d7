-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) FILTER (WHERE pg_sleep_for('1 hour') IS NULL) AS n FROM issues
