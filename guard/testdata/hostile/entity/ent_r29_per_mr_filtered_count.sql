-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 29: a per-MR count FILTERed to one reviewer's categories, compared in
-- a top-level FILTER, was counted with every person the MR row stands for.
WITH per_mr AS (
    SELECT n.noteable_id AS mr_id,
           count(*) FILTER (WHERE u.state = 'blocked_pending_approval' AND u.private_profile) AS pending_notes
    FROM notes n JOIN users u ON u.id = n.author_id
    WHERE n.noteable_type = 'MergeRequest'
    GROUP BY n.noteable_id
)
SELECT date_trunc('year', m.created_at)::date AS y, count(DISTINCT m.author_id) AS n,
       count(*) FILTER (WHERE pm.pending_notes > 0) AS reviewed_by_pending
FROM merge_requests m JOIN per_mr pm ON pm.mr_id = m.id
GROUP BY 1
