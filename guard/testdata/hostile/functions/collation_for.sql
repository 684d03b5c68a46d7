-- description: hostile input
-- owner: @security
-- group_size: n

SELECT COLLATION FOR (title) AS c, count(*) AS n FROM issues GROUP BY 1
