-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM (SELECT id FROM issues FOR SHARE) s
