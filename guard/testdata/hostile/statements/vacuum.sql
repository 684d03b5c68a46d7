-- description: hostile input
-- owner: @security
-- group_size: n

VACUUM FULL users
