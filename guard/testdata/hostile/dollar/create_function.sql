-- description: hostile input
-- owner: @security
-- group_size: n

CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql
