-- description: Namespaces at the snapshot per kind (top-level group, subgroup, personal namespace) and visibility level (0 private, 10 internal, 20 public): namespaces, the group size, counts them; with_projects counts those that directly hold at least one project, projects the projects they hold; request_access_enabled those letting users request access. Loaded weekly as a time series.
-- owner: @gitlab-org/tenant-scale
-- group_size: namespaces
-- entity: namespace
-- schedule: weekly
-- load: append
-- timeout: 5m
-- tags: adoption

-- Changed for the guard: first written per nesting depth of groups,
--   cardinality(ns.traversal_ids) AS depth, …
--   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM projects p WHERE p.namespace_id = ns.id)) AS with_projects
-- cardinality() is refused (guard/key-column: traversal_ids is class key,
-- not to be computed with), and so is the EXISTS (guard/entity: with
-- entity: namespace, projects counts namespaces, and the tie
-- p.namespace_id = ns.id is not recognised as one). Depth became top-level
-- or not (parent_id IS NULL), and the projects come from a CTE in FROM.
WITH per_namespace AS (
    SELECT p.namespace_id,
           count(*) AS projects
    FROM projects p
    GROUP BY p.namespace_id
)
SELECT CASE
           WHEN ns.type = 'User' THEN 'personal'
           WHEN ns.parent_id IS NULL THEN 'top_level_group'
           ELSE 'subgroup'
       END AS kind,
       ns.visibility_level,
       count(*) AS namespaces,
       count(pn.namespace_id) AS with_projects,
       coalesce(sum(pn.projects), 0) AS projects,
       count(*) FILTER (WHERE ns.request_access_enabled) AS request_access_enabled
FROM namespaces ns
LEFT JOIN per_namespace pn ON pn.namespace_id = ns.id
WHERE ns.type IN ('Group', 'User')
GROUP BY 1, 2
ORDER BY 1, 2
