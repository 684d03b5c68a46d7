-- description: hostile input
-- owner: @security
-- group_size: n

NOTIFY leak, 'x'
