-- description: hostile input
-- owner: @security
-- group_size: n

WITH d AS (DELETE FROM issues RETURNING id) SELECT count(*) AS n FROM d
