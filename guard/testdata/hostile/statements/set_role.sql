-- description: hostile input
-- owner: @security
-- group_size: n

SET ROLE postgres
