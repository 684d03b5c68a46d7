-- description: Open issues.
-- group_size: n
SELECT count(*) AS n FROM issues WHERE state_id = 1
