-- description: hostile input
-- owner: @security
-- group_size: n

SELECT v.x, count(*) AS n FROM (VALUES ((SELECT email FROM users LIMIT 1))) v(x) GROUP BY 1
