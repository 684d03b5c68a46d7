-- description: hostile input
-- owner: @security
-- group_size: n

-- The same with a FILTERed sum: one issue author's sign-ins times their notes.
WITH per_commenter AS (
    SELECT n.author_id,
           sum(u.sign_in_count) FILTER (WHERE u.created_at >= '2022-06-03' AND u.created_at < '2022-06-04') AS s
    FROM notes n
    JOIN issues i ON i.id = n.noteable_id
    JOIN users u ON u.id = i.author_id
    WHERE n.noteable_type = 'Issue'
    GROUP BY n.author_id
)
SELECT pc.s, count(DISTINCT pc.author_id) AS n
FROM per_commenter pc
GROUP BY 1
