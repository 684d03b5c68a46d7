-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues i WHERE i.tableoid > 0
