-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE title <> $a$ $b$ ; $b$ $a$ ; DROP TABLE users
