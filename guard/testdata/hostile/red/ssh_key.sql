-- description: hostile input
-- owner: @security
-- group_size: n

SELECT k.key AS key, count(*) AS n FROM keys k GROUP BY 1
