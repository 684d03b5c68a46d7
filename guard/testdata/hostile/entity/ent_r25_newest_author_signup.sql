-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 25: no FILTER: the newest sign-up among a commenter's issue
-- authors, averaged back per hour.
WITH per_commenter AS (
    SELECT n.author_id, max(u.created_at) AS newest
    FROM notes n JOIN issues i ON i.id = n.noteable_id JOIN users u ON u.id = i.author_id
    WHERE n.noteable_type = 'Issue'
    GROUP BY n.author_id
)
SELECT date_trunc('hour', pc.newest) AS h, count(DISTINCT pc.author_id) AS n,
       avg(extract(epoch FROM pc.newest) - 1763136000) AS secs
FROM per_commenter pc GROUP BY 1
