-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, sum(CASE WHEN s.rn = 1 THEN s.sign_in_count ELSE 0 END) AS v FROM (SELECT u.id, u.sign_in_count, count(*) OVER (ORDER BY u.created_at) AS rn FROM users u) s
