-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues, set_config('statement_timeout', '0', false) AS s
