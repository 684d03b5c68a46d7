-- description: Merged MRs per month of merge (UTC), split by who wrote them: merged_mrs counts all; community_mrs those whose author was not a member of the target project or of any of its ancestor groups at the snapshot; first_contribution_mrs those GitLab flagged as the author's first contribution to the project (merge_request_metrics.first_contribution); community_rate is community_mrs / merged_mrs (0 to 1). authors, the group size, counts distinct MR authors. The current month is partial.
-- owner: @gitlab-org/developer-relations
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review, community

-- Membership is today's, not the one at merge time: members who left are
-- counted as community. namespaces.traversal_ids lists the project's
-- namespace and all its ancestors, so one ANY covers inherited membership.
-- The split is a FILTER on a flag, not a GROUP BY on it: the flag stays a
-- predicate and the month stays the only group.
WITH merged AS (
    SELECT mm.merged_at,
           m.author_id,
           mm.first_contribution,
           NOT EXISTS (
               SELECT 1
               FROM members mb
               WHERE mb.user_id = m.author_id
                 AND ((mb.source_type = 'Project' AND mb.source_id = p.id)
                   OR (mb.source_type = 'Namespace' AND mb.source_id = ANY (ns.traversal_ids)))
           ) AS is_community
    FROM merge_requests m
    JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
    JOIN projects p ON p.id = m.target_project_id
    JOIN namespaces ns ON ns.id = p.namespace_id
    WHERE m.state_id = 3
      AND mm.merged_at IS NOT NULL
)
SELECT date_trunc('month', merged_at)::date AS month,
       count(*) AS merged_mrs,
       count(DISTINCT author_id) AS authors,
       count(*) FILTER (WHERE is_community) AS community_mrs,
       count(*) FILTER (WHERE first_contribution) AS first_contribution_mrs,
       round(count(*) FILTER (WHERE is_community)::numeric / count(*), 4) AS community_rate
FROM merged
GROUP BY 1
ORDER BY 1
