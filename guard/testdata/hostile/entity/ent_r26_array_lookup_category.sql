-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 26: a lookup sums a category (sum(admin::int) is refused).
SELECT count(*) AS n, sum((ARRAY[0, 1])[u.admin::int + 1]) AS admins FROM users u
