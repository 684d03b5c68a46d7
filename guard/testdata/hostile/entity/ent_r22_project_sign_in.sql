-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: one user's current_sign_in_at, the latest of a project's.
SELECT date_trunc('hour', s.last_signin) AS signin_hour, count(DISTINCT s.project_id) AS n
FROM (SELECT e.project_id, max(u.current_sign_in_at) AS last_signin
      FROM events e JOIN users u ON u.id = e.author_id GROUP BY e.project_id) s
GROUP BY 1
