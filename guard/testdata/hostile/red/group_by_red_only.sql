-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM users GROUP BY last_sign_in_ip
