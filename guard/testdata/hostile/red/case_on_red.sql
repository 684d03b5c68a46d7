-- description: hostile input
-- owner: @security
-- group_size: n

SELECT CASE WHEN email LIKE '%@gitlab.com' THEN 'staff' END AS k, count(*) AS n FROM users GROUP BY 1
