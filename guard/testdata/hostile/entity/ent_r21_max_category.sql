-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: max of a category names the rarest value present.
SELECT count(DISTINCT u.id) AS n, max(u.user_type) AS t FROM users u
