-- description: hostile input
-- owner: @security
-- group_size: n

SELECT i.ctid::text AS c, count(*) AS n FROM issues i GROUP BY 1
