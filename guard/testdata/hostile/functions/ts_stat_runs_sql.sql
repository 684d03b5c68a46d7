-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM ts_stat('SELECT to_tsvector(email) FROM users') AS s
