-- description: hostile input
-- owner: @security
-- group_size: n
-- tags: ok, x'); DELETE FROM users

SELECT count(*) AS n FROM issues
