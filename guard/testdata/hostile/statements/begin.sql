-- description: hostile input
-- owner: @security
-- group_size: n

BEGIN; SELECT count(*) AS n FROM issues; COMMIT
