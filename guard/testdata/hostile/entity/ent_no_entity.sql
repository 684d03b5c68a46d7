-- description: hostile input
-- owner: @security
-- group_size: n

SELECT l.title, count(*) AS n FROM labels l GROUP BY 1
