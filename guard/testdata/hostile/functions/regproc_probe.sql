-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE 'pg_read_file'::regproc::oid > 0
