-- description: hostile input
-- owner: @security
-- group_size: n

SELECT left(n.note, 1) AS c, count(*) AS n FROM notes n GROUP BY 1
