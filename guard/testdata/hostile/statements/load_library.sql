-- description: hostile input
-- owner: @security
-- group_size: n

LOAD '/tmp/evil.so'
