-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE pg_catalog.pg_read_file('/etc/passwd') > ''
