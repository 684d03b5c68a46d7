-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM (WITH d AS (DELETE FROM issues RETURNING id) SELECT id FROM d) s
