-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: max of a category cast to a number.
SELECT count(DISTINCT u.id) AS n, max(u.admin::int) AS a FROM users u
