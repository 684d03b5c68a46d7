-- description: hostile input
-- owner: @security
-- group_size: n

WITH s AS (SELECT max(CASE WHEN u2.created_at >= '2019-11-02' AND u2.created_at < '2019-11-03' THEN u2.sign_in_count END) AS v FROM users u2) SELECT s.v AS v, count(DISTINCT u.id) AS n FROM users u, s GROUP BY 1
