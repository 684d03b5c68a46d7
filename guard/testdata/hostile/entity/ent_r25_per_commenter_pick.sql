-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 25: grouped by the commenter, max() picks another person's (the
-- issue author's) sign-in count, narrowed to one sign-up day, then grouped by.
WITH per_commenter AS (
    SELECT n.author_id,
           max(u.sign_in_count) FILTER (WHERE u.created_at >= '2022-06-03' AND u.created_at < '2022-06-04') AS author_sign_ins
    FROM notes n
    JOIN issues i ON i.id = n.noteable_id
    JOIN users u ON u.id = i.author_id
    WHERE n.noteable_type = 'Issue'
    GROUP BY n.author_id
)
SELECT pc.author_sign_ins, count(DISTINCT pc.author_id) AS n
FROM per_commenter pc
GROUP BY 1
