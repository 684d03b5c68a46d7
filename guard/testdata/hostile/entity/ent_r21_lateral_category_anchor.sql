-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: the same anchor from a LATERAL correlated by a category.
SELECT count(DISTINCT u.id) AS n, max(u.created_at - s.t) AS newest
FROM users u
JOIN LATERAL (SELECT min(u0.created_at) AS t FROM users u0 WHERE u0.can_create_group = u.can_create_group) s ON true
