-- description: hostile input
-- owner: @security
-- group_size: n

SELECT date_trunc('month', e.created_at)::date AS m, count(DISTINCT g) AS n FROM events e CROSS JOIN generate_series(1, 12) g WHERE e.author_id = 4711 GROUP BY 1
