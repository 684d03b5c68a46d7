-- description: hostile input
-- owner: @security
-- group_size: n

WITH RECURSIVE t(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM t) SELECT count(*) AS n FROM t
