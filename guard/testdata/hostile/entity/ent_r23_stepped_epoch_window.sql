-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 23: steps of two time columns' epochs make a one-day window.
SELECT count(*) AS n,
       sum(((extract(epoch FROM u.created_at)::bigint - 1638230400 + 100000000000) / 100000000000)
         - ((extract(epoch FROM u.confirmed_at)::bigint - 1638316800 + 100000000000) / 100000000000)) AS that_day
FROM users u
