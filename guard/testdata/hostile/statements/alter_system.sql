-- description: hostile input
-- owner: @security
-- group_size: n

ALTER SYSTEM SET log_statement = 'none'
