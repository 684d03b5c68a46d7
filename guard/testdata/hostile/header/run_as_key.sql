-- description: hostile input
-- owner: @security
-- group_size: n
-- run_as: postgres

SELECT count(*) AS n FROM issues
