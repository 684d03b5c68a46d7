-- description: x
-- owner: @security
-- group_size: k

SELECT 1000 AS k, avg(weight) AS w FROM issues
