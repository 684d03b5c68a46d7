-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM information_schema.column_privileges
