-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues INTERSECT SELECT count(*) FROM merge_requests
