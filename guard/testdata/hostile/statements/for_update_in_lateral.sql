-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues i, LATERAL (SELECT u.id FROM users u WHERE u.id = i.author_id FOR UPDATE) x
