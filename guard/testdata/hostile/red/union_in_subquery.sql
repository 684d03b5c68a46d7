-- description: hostile input
-- owner: @security
-- group_size: n

SELECT x, count(*) AS n FROM (SELECT username AS x FROM users UNION SELECT email FROM users) s GROUP BY 1
