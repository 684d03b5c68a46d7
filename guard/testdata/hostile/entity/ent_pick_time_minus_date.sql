-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS st, count(*) AS n, min(u.created_at - u.created_at::date) AS p FROM users u GROUP BY 1
