-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.c AS c, count(DISTINCT s.aid) AS n FROM (SELECT t.aid, count(*) OVER (PARTITION BY t.aid) AS c FROM (SELECT i.author_id AS aid, u.created_at::date AS joined FROM issues i JOIN users u ON u.id = i.author_id) t LEFT JOIN generate_series('2014-01-15'::date, '2014-01-15'::date, '1 day') g ON g.g = t.joined) s GROUP BY 1
