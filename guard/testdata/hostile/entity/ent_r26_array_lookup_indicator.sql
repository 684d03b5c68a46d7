-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 26: a constant array read at a row's day is 1 for one day, 2 for
-- the others; ARRAY[u.x, 0] read at it is one row's x.
SELECT count(*) AS n,
       sum((ARRAY[u.sign_in_count, 0])[(ARRAY[2,2,1,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2])[extract(day FROM u.created_at)::int]]) AS target
FROM users u
