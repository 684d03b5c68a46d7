-- description: hostile input
-- owner: @security
-- group_size: n

LOCK TABLE users IN ACCESS EXCLUSIVE MODE
