-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM (SELECT DISTINCT e.author_id FROM events e) s
