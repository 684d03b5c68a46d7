-- description: hostile input
-- owner: @security
-- group_size: n

SELECT row_number() OVER () AS r, count(*) AS n FROM issues
