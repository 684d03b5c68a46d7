-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues, json_populate_record(NULL::users, '{}') AS r
