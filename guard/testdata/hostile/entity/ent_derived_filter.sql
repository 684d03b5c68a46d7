-- description: hostile input
-- owner: @security
-- group_size: n

SELECT w, count(*) AS n FROM (SELECT i.project_id, max(i.weight) FILTER (WHERE i.closed_by_id = i.author_id) AS w FROM issues i GROUP BY 1) s GROUP BY 1
