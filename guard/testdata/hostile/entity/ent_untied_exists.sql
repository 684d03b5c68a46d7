-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM merge_requests m WHERE EXISTS (SELECT 1 FROM notes x WHERE x.noteable_id = m.id AND x.author_id = x.author_id)
