-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, max(length(to_json(u)::text)) AS l FROM users u
