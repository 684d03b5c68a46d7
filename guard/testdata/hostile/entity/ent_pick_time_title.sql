-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT i.author_id) AS n, min(extract(epoch FROM i.created_at)) FILTER (WHERE i.created_at >= '2024-11-24 11:44:25' AND i.title ILIKE 'a%') AS t FROM issues i
