-- description: hostile input
-- owner: @security
-- group_size: n

SELECT i.title AS t, count(*) AS n FROM issues i WHERE i.confidential GROUP BY 1
