-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: IN (SELECT … generate_series) in the pick's own FILTER.
SELECT count(DISTINCT u.id) AS n,
       max(u.sign_in_count) FILTER (WHERE u.sign_in_count IN (SELECT g FROM generate_series(0, 204) g) AND u.email LIKE '%8@%') AS top
FROM users u
