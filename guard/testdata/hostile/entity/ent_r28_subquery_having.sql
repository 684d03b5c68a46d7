-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 28: a subquery's HAVING reads one person's FILTERed sum.
SELECT s.w AS week, count(DISTINCT e.author_id) AS n
FROM events e
JOIN (SELECT date_trunc('week', e2.created_at)::date AS w
      FROM events e2 CROSS JOIN users u
      GROUP BY 1
      HAVING sum(extract(epoch FROM u.last_sign_in_at)) FILTER (WHERE u.created_at >= '2020-05-23' AND u.created_at < '2020-05-24') > 1767722896) s
  ON s.w = date_trunc('week', e.created_at)::date
GROUP BY 1
