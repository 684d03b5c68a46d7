-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 24: money rounds to cents.
SELECT count(*) AS n, sum((u.sign_in_count * 0.001)::money::numeric) AS s FROM users u
