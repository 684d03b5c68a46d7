-- description: hostile input
-- owner: @security
-- group_size: n

GRANT SELECT ON users TO PUBLIC
