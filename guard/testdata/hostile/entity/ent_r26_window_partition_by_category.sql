-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 26: a partition's size by a category is that category's count.
WITH w AS (SELECT u.id, u.admin, count(*) OVER (PARTITION BY u.admin) AS c FROM users u)
SELECT count(*) AS n, min(w.c) AS smallest_partition FROM w
