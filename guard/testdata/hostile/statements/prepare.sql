-- description: hostile input
-- owner: @security
-- group_size: n

PREPARE p AS SELECT email FROM users
