-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p, count(*) AS n FROM (SELECT lag(e.created_at) OVER (ORDER BY e.created_at) AS p FROM events e) s GROUP BY date_trunc('day', p)
