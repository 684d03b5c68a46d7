-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.state AS st, count(*) AS n, max(extract(doy FROM u.created_at)) AS p FROM users u GROUP BY 1
