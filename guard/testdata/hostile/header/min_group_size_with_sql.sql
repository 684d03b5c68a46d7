-- description: hostile input
-- owner: @security
-- group_size: n
-- min_group_size: 1 OR 1=1

SELECT count(*) AS n FROM issues
