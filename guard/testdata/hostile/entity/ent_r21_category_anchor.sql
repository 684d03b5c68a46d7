-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: an anchor grouped by a category every row shares is a
-- constant; the duration to it is each row's instant.
WITH s AS (SELECT u0.can_create_group, min(u0.created_at) AS t FROM users u0 GROUP BY u0.can_create_group)
SELECT count(DISTINCT u.id) AS n, max(u.created_at - s.t) AS newest
FROM users u JOIN s ON s.can_create_group = u.can_create_group
