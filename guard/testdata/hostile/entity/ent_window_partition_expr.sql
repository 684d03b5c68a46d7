-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.c AS per_closer, count(DISTINCT s.author_id) AS n FROM (SELECT i.author_id, count(*) OVER (PARTITION BY CASE WHEN i.weight > 3 THEN 1 END) AS c FROM issues i) s GROUP BY 1
