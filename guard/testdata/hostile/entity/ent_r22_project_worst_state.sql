-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: the one blocked author of a project, as a group key.
SELECT s.worst_state, count(DISTINCT s.project_id) AS n
FROM (SELECT i.project_id, max(u.state) AS worst_state
      FROM issues i JOIN users u ON u.id = i.author_id GROUP BY i.project_id) s
GROUP BY 1
