-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS st, count(*) AS n, min(u.last_sign_in_at - date_trunc('year', u.created_at)) AS p FROM users u GROUP BY 1
