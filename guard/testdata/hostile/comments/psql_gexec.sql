-- description: hostile input
-- owner: @security
-- group_size: n

SELECT 'DELETE FROM users' AS q, count(*) AS n FROM issues GROUP BY 1 \gexec
