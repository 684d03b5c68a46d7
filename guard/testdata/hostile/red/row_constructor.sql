-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, max(length(ROW(u.email)::text)) AS l FROM users u
