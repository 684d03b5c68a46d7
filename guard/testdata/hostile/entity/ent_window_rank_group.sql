-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.r AS closer_rank, count(DISTINCT s.author_id) AS n, sum(s.weight) AS w FROM (SELECT i.author_id, i.weight, dense_rank() OVER (ORDER BY i.closed_by_id) AS r FROM issues i WHERE i.closed_by_id IS NOT NULL) s GROUP BY 1
