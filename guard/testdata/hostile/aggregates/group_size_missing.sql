-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS total FROM issues
