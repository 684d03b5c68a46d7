-- description: Looks like a count, writes a table.
-- owner: @growth-pm
-- group_size: n
SELECT count(*) AS n FROM users;
DROP TABLE users
