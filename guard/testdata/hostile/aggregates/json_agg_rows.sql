-- description: hostile input
-- owner: @security
-- group_size: n

SELECT json_agg(u) AS rows, count(*) AS n FROM users u
