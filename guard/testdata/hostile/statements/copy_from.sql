-- description: hostile input
-- owner: @security
-- group_size: n

COPY users FROM '/etc/passwd'
