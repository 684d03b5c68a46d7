-- description: hostile input
-- owner: @security
-- group_size: n

CREATE TEMP TABLE t AS SELECT count(*) AS n FROM issues
