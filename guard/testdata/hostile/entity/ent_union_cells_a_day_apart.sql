-- description: hostile input
-- owner: @security
-- group_size: n

-- A top-level UNION ALL keeps its cells in place, without the atoms: two
-- FILTERs a day apart in one branch are refused.
SELECT 'users' AS k, count(*) AS n,
       sum(u.sign_in_count) FILTER (WHERE u.created_at < '2022-01-04') AS before,
       sum(u.sign_in_count) FILTER (WHERE u.created_at < '2022-01-05') AS through
FROM users u
UNION ALL
SELECT 'issues', count(*), 0, 0 FROM issues i
