-- description: hostile input
-- owner: @security
-- group_size: n

SELECT t.c AS c, count(DISTINCT t.id) AS n FROM (SELECT x.id, count(x.hit) OVER () AS c FROM (SELECT u.id, CASE WHEN u.created_at >= '2019-11-02' AND u.created_at < '2019-11-03' THEN 1 END AS hit FROM users u) x) t GROUP BY 1
