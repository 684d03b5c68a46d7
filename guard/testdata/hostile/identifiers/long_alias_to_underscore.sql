-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, avg(weight) AS "_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" FROM issues
