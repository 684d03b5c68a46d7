-- description: a[2K[1Agood query
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues
