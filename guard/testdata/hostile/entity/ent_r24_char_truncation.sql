-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 24: char(1) keeps the first digit.
SELECT count(*) AS n, sum(((u.sign_in_count)::text)::char(1)::numeric) AS s FROM users u
