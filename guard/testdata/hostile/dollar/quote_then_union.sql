-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE title <> $t$it's$t$ UNION SELECT email FROM users
