SELECT count(*) AS n FROM issues
-- description: x
-- owner: @security
-- group_size: n
