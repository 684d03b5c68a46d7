-- description: hostile input
-- owner: @security
-- group_size: n

WITH i AS (INSERT INTO issues (title) VALUES ('x') RETURNING id) SELECT count(*) AS n FROM i
