-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(weight) AS n FROM issues
