-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS st, count(*) AS n, percentile_disc(0.05) WITHIN GROUP (ORDER BY m.t - u.created_at) AS p05 FROM users u CROSS JOIN (SELECT max(i.created_at) AS t FROM issues i) m GROUP BY 1
