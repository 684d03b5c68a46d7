-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: a subquery grouped by project picks one issue's time; the
-- top groups by its hour (one project a row) and averages it back.
SELECT date_trunc('hour', s.first_at) AS first_hour, count(DISTINCT s.project_id) AS n,
       avg(extract(epoch FROM s.first_at) * 1000 - 1730505000000) AS ms_after
FROM (SELECT i.project_id, min(i.created_at) AS first_at FROM issues i GROUP BY i.project_id) s
GROUP BY 1
