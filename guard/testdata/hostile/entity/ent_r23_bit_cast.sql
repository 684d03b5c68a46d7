-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 23: x::bit(n) keeps one bit of a row's value.
SELECT count(*) AS n, sum(u.sign_in_count::bit(1)::int) AS b0 FROM users u
