-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, sum(u.sign_in_count * power(1000::numeric, extract(day FROM u.created_at))) AS v FROM users u
