-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS state, count(*) AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY u.created_at - p.created_at) AS p1 FROM users u JOIN projects p ON p.archived = u.admin WHERE p.star_count = 296 GROUP BY 1
