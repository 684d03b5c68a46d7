-- description: hostile input
-- owner: @security
-- group_size: n

SET LOCAL statement_timeout = 0; SELECT count(*) AS n FROM issues
