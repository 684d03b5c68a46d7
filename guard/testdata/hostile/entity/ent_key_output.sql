-- description: hostile input
-- owner: @security
-- group_size: n

SELECT e.project_id, count(*) AS n FROM events e GROUP BY 1
