-- description: hostile input
-- owner: @security
-- group_size: n

SELECT length(u.to_json::text) AS l, count(*) AS n FROM users u GROUP BY 1
