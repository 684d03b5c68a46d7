-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, avg(weight) AS _loaded_at FROM issues
