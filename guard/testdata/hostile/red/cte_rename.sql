-- description: hostile input
-- owner: @security
-- group_size: n

WITH x(a) AS (SELECT email FROM users) SELECT a, count(*) AS n FROM x GROUP BY 1
