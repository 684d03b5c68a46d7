-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: a join to a series holds the picked column to a threshold.
SELECT count(DISTINCT u.id) AS n,
       max(u.sign_in_count) FILTER (WHERE u.email LIKE '%0000010%') AS top
FROM users u
JOIN generate_series(0, 204) g ON g.g = u.sign_in_count
