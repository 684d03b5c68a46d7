-- description: hostile input
-- owner: @security
-- group_size: n

SELECT 13.5 AS c, count(DISTINCT u.id) AS n FROM users u UNION ALL SELECT count(*) AS c, count(DISTINCT i.author_id) AS n FROM issues i JOIN users u ON u.id = i.author_id WHERE u.username LIKE 'creyes%' ORDER BY 1 ASC LIMIT 1
