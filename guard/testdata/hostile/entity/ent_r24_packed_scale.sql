-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 24: a time offset scaled by 1e9 and a measure packed into one number.
SELECT count(*) AS n,
       sum((extract(epoch FROM u.created_at) - 1572668246.691619) * 1000000000 + u.sign_in_count) AS packed
FROM users u
