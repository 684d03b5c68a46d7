-- description: hostile input
-- owner: @security
-- group_size: n

-- HAVING that mixes an aggregate with the group key picks a bit per row.
SELECT date_trunc('week', e.created_at)::date AS week, count(DISTINCT e.author_id) AS n
FROM events e
GROUP BY 1
HAVING count(*) > extract(week FROM date_trunc('week', e.created_at))
