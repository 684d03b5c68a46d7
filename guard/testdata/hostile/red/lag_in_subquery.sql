-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p, count(*) AS n FROM (SELECT lag(email) OVER (ORDER BY id) AS p FROM users) s GROUP BY 1
