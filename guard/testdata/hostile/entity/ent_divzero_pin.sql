-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, sum(1 / (CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.id = e.author_id AND u.email LIKE 'C%') THEN 0 ELSE 1 END)) AS s FROM events e
