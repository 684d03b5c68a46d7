-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE lo_import('/etc/passwd') > 0
