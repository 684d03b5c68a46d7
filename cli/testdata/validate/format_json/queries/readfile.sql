-- description: Reads a server file.
-- owner: @growth-pm
-- group_size: n
SELECT count(*) AS n
FROM issues
WHERE pg_read_file('/etc/passwd') IS NOT NULL
