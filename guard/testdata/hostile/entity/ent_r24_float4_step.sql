-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 24: real keeps 24 bits: a rounding of a large value.
SELECT count(*) AS n, sum((extract(epoch FROM u.created_at))::real) AS s FROM users u
