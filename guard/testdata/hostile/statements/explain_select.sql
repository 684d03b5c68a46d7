-- description: hostile input
-- owner: @security
-- group_size: n

EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) AS n FROM issues
