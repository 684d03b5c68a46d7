-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, max(length(u.json_agg::text)) AS l FROM users u
