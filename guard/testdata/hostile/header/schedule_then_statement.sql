-- description: hostile input
-- owner: @security
-- group_size: n
-- schedule: daily
; DROP TABLE users;
SELECT count(*) AS n FROM issues
