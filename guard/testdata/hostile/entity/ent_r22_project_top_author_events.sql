-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: the largest author's event count of a project, averaged back.
SELECT count(DISTINCT t.project_id) AS n, avg(t.top_n) AS top_author_events
FROM (SELECT pa.project_id, max(pa.n) AS top_n
      FROM (SELECT e.project_id, e.author_id, count(*) AS n FROM events e GROUP BY e.project_id, e.author_id) pa
      GROUP BY pa.project_id) t
