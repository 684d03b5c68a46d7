-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 22: count(DISTINCT) of a column that is an id in one branch and a category in another.
SELECT count(DISTINCT s.uid) AS n, count(DISTINCT s.v) AS kinds
FROM (SELECT u.id AS uid, u.id AS v FROM users u
      UNION ALL
      SELECT u.id, u.user_type + 1000 FROM users u) s
