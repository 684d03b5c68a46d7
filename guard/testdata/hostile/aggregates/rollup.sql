-- description: hostile input
-- owner: @security
-- group_size: n

SELECT state_id, count(*) AS n FROM issues GROUP BY ROLLUP (state_id)
