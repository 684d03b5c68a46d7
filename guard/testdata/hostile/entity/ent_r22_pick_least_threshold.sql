-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: least(x, 204) = x is x <= 204.
SELECT count(DISTINCT u.id) AS n, max(u.sign_in_count) AS top
FROM users u WHERE least(u.sign_in_count, 204) = u.sign_in_count
