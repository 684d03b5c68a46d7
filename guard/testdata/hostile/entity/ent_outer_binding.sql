-- description: hostile input
-- owner: @security
-- group_size: n

SELECT x, count(*) AS n FROM (SELECT (SELECT mail FROM labels LIMIT 1) AS x FROM (SELECT u.email AS mail FROM users u) s) t GROUP BY 1
