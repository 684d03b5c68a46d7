-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS st, count(*) AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY u.created_at - date_trunc('year', u.created_at)) AS p FROM users u GROUP BY 1
