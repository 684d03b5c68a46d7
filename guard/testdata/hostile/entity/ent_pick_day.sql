-- description: hostile input
-- owner: @security
-- group_size: n

SELECT date_trunc('month', u.created_at)::date AS m, count(DISTINCT u.id) AS n, max(date_trunc('day', u.created_at)) AS last_day FROM users u GROUP BY 1
