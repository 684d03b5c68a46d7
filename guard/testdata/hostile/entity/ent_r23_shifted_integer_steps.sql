-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 23: two shifted integer divisions subtract to 1 for one value of x.
SELECT count(*) AS n,
       sum(((u.sign_in_count - 71 + 100000) / 100000) - ((u.sign_in_count - 72 + 100000) / 100000)) AS at_71
FROM users u
