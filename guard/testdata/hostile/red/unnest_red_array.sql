-- description: hostile input
-- owner: @security
-- group_size: n

SELECT x, count(*) AS n FROM unnest(ARRAY(SELECT email FROM users)) AS x GROUP BY 1
