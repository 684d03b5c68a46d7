-- description: hostile input
-- owner: @security
-- group_size: n

SELECT version() AS v, count(*) AS n FROM issues GROUP BY 1
