-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 28: HAVING turns one person's value (two FILTERs a day apart) into
-- which weeks load, one bit per week.
SELECT date_trunc('week', e.created_at)::date AS week, count(DISTINCT e.author_id) AS n
FROM events e CROSS JOIN users u
GROUP BY 1
HAVING mod(floor(sum(extract(epoch FROM u.last_sign_in_at)) FILTER (WHERE u.created_at < '2020-05-24')
               - sum(extract(epoch FROM u.last_sign_in_at)) FILTER (WHERE u.created_at < '2020-05-23'))::bigint, 2) = 1
