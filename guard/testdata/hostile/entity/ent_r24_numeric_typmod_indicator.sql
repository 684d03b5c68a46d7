-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 24: numeric(p, 0) rounds; two such casts a unit apart are 1 at one value.
SELECT u.state AS st, count(*) AS n,
       sum((u.sign_in_count - 92 + 0.5)::numeric(30,0) - (u.sign_in_count - 92 - 0.5)::numeric(30,0) - 1) AS hit92
FROM users u GROUP BY 1
