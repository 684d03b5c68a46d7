-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, count(*) FILTER (WHERE p.name LIKE 'Acme W%') AS bit FROM events e JOIN projects p ON p.id = 23
