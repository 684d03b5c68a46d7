-- description: hostile input
-- owner: @security
-- group_size: n

WITH m AS (SELECT min(u2.created_at) AS t FROM users u2) SELECT u.state AS st, count(*) AS n, percentile_disc(0.05) WITHIN GROUP (ORDER BY u.last_sign_in_at - m.t) AS p05 FROM users u, m GROUP BY 1
