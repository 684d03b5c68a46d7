-- description: hostile input
-- owner: @security
-- group_size: n

SELECT (SELECT count(*) FROM namespaces x WHERE x.path = 'acme-corp' AND x.name LIKE 'Acme C%') AS bit, count(*) AS n FROM events e GROUP BY 1
