-- description: hostile input
-- owner: @security
-- group_size: n

SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY current_sign_in_ip) AS ip, count(*) AS n FROM users
