-- description: hostile input
-- owner: @security
-- group_size: n

-- Two branches over one table, a day apart: the rows subtract to that day's sign-ups.
SELECT 'before' AS k, count(*) AS n, sum(u.sign_in_count) AS s FROM users u WHERE u.created_at < '2022-01-04'
UNION ALL
SELECT 'through', count(*), sum(u.sign_in_count) FROM users u WHERE u.created_at < '2022-01-05'
