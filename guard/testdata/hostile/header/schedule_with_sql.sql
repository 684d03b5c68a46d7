-- description: hostile input
-- owner: @security
-- group_size: n
-- schedule: daily; DELETE FROM users

SELECT count(*) AS n FROM issues
