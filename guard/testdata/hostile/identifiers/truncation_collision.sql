-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, avg(weight) AS wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww_first, avg(id) AS wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww_second FROM issues
