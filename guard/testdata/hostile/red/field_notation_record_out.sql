-- description: hostile input
-- owner: @security
-- group_size: n

SELECT min(k.record_out::text) AS m, count(*) AS n FROM keys k
