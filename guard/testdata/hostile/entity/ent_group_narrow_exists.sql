-- description: hostile input
-- owner: @security
-- group_size: n

SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = e.author_id AND u.username = 'root') AS is_root, count(*) AS n FROM events e GROUP BY 1
