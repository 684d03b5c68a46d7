-- description: Issues per quarter of creation (UTC) in group projects: issues counts them; by_members counts those opened by a member of the project's top-level group (direct membership at the snapshot), member_rate their share (0 to 1); closed_by_members_rate is the share of members' issues closed, closed_by_others_rate that of the others'. issue_authors, the group size, counts distinct issue authors. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan, community

-- Changed for the guard: membership was first written as
--   i.author_id IN (SELECT mb.user_id FROM members mb
--                   WHERE mb.source_type = 'Namespace' AND mb.source_id = ns.traversal_ids[1])
-- which the guard refuses (guard/entity: members is not tied to the issue's
-- author): it does not read the IN's left side as a tie. The same test as
-- EXISTS with mb.user_id = i.author_id in its WHERE is accepted.
-- ns.traversal_ids[1] is the top-level group of the project's namespace.
SELECT date_trunc('quarter', i.created_at)::date AS quarter,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM members mb
           WHERE mb.user_id = i.author_id
             AND mb.source_type = 'Namespace'
             AND mb.source_id = ns.traversal_ids[1])) AS by_members,
       round(count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM members mb
           WHERE mb.user_id = i.author_id
             AND mb.source_type = 'Namespace'
             AND mb.source_id = ns.traversal_ids[1]))::numeric / count(*), 4) AS member_rate,
       round(count(*) FILTER (WHERE i.state_id = 2 AND EXISTS (
           SELECT 1 FROM members mb
           WHERE mb.user_id = i.author_id
             AND mb.source_type = 'Namespace'
             AND mb.source_id = ns.traversal_ids[1]))::numeric
             / nullif(count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM members mb
           WHERE mb.user_id = i.author_id
             AND mb.source_type = 'Namespace'
             AND mb.source_id = ns.traversal_ids[1])), 0), 4) AS closed_by_members_rate,
       round(count(*) FILTER (WHERE i.state_id = 2 AND NOT EXISTS (
           SELECT 1 FROM members mb
           WHERE mb.user_id = i.author_id
             AND mb.source_type = 'Namespace'
             AND mb.source_id = ns.traversal_ids[1]))::numeric
             / nullif(count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM members mb
           WHERE mb.user_id = i.author_id
             AND mb.source_type = 'Namespace'
             AND mb.source_id = ns.traversal_ids[1])), 0), 4) AS closed_by_others_rate
FROM issues i
JOIN projects p ON p.id = i.project_id
JOIN namespaces ns ON ns.id = p.namespace_id
WHERE ns.type = 'Group'
GROUP BY 1
ORDER BY 1
