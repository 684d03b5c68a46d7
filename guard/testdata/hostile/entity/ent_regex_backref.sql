-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues i JOIN labels l ON l.project_id = i.project_id WHERE l.title ~ '^(a+)+\1$'
