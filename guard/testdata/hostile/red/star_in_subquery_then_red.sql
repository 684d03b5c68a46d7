-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.otp_secret, count(*) AS n FROM (SELECT * FROM users) s GROUP BY 1
