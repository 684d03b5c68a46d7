-- description: hostile input
-- owner: @security
-- group_size: n

SELECT split_part(email, '@', 2) AS domain, count(*) AS n FROM users GROUP BY 1
