-- description: hostile input
-- owner: @security
-- group_size: n

SELECT date_trunc('year', i.created_at)::date AS y, count(*) AS n, sum(CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.id = i.author_id AND u.username = 'root' AND u.email LIKE 'C%') THEN i.weight ELSE 0 END) AS bit FROM issues i GROUP BY 1
