-- description: hostile input
-- owner: @security
-- group_size: n

EXPLAIN ANALYZE DELETE FROM users
