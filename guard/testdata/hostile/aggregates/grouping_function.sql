-- description: hostile input
-- owner: @security
-- group_size: n

SELECT GROUPING(state_id) AS g, count(*) AS n FROM issues GROUP BY state_id
