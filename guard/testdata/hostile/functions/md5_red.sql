-- description: hostile input
-- owner: @security
-- group_size: n

SELECT md5(email) AS h, count(*) AS n FROM users GROUP BY 1
