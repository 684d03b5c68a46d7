-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.v1 AS v1, count(DISTINCT u.id) AS n FROM users u CROSS JOIN (SELECT sum(u2.sign_in_count) FILTER (WHERE u2.created_at >= '2019-11-02' AND u2.created_at < '2019-11-03') AS v1 FROM users u2) s GROUP BY 1
