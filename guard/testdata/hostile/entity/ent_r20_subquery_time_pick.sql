-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 20: a subquery's median signup time, cross-joined and grouped by
-- its day and time of day, is one person's instant.
SELECT date_trunc('day', x.a) AS d, x.tod AS tod, count(DISTINCT u.id) AS n
FROM users u
CROSS JOIN (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY created_at) AS a,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY created_at) - percentile_disc(0.5) WITHIN GROUP (ORDER BY date_trunc('day', created_at)) AS tod
            FROM users) x
GROUP BY 1, 2
