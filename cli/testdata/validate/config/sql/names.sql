-- description: Users per name (names are red here).
-- owner: @pm
-- group_size: n
-- min_group_size: 15
-- source: cii
SELECT u.name, count(*) AS n FROM users u GROUP BY 1
