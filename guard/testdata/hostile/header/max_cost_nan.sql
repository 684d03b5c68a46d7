-- description: hostile input
-- owner: @security
-- group_size: n
-- max_cost: NaN

SELECT count(*) AS n FROM issues
