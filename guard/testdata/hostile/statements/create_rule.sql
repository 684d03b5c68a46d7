-- description: hostile input
-- owner: @security
-- group_size: n

CREATE RULE r AS ON SELECT TO issues DO INSTEAD SELECT * FROM users
