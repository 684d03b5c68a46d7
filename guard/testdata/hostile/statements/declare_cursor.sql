-- description: hostile input
-- owner: @security
-- group_size: n

DECLARE c CURSOR FOR SELECT email FROM users
