-- description: hostile input
-- owner: @security
-- group_size: n

SELECT t, count(*) AS n FROM (SELECT (SELECT email FROM users u WHERE u.id = i.author_id) AS t FROM issues i) s GROUP BY 1
