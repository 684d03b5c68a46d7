-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: bool_or of a category tells whether one row in a FILTER has it.
SELECT count(DISTINCT u.id) AS n,
       bool_or(u.admin) FILTER (WHERE u.created_at >= '2025-09-01' AND u.created_at < '2026-07-23') AS admin_since
FROM users u
