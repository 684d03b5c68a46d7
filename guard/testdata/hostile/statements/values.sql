-- description: hostile input
-- owner: @security
-- group_size: n

VALUES (1, 'x')
