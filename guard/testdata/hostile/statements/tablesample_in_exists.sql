-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE EXISTS (SELECT 1 FROM users TABLESAMPLE BERNOULLI (10))
