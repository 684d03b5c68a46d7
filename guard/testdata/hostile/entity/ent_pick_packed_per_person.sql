-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT s.author_id) AS n, min(extract(epoch FROM s.ucreated) * 1000 + s.cnt) FILTER (WHERE s.ucreated >= '2021-05-03') AS packed FROM (SELECT i.author_id, u.created_at AS ucreated, count(*) AS cnt FROM issues i JOIN users u ON u.id = i.author_id GROUP BY 1, 2) s
