-- description: How projects configure their features, at the snapshot, per issues access level (0 disabled, 10 members only, 20 everyone with access): projects counts projects neither archived nor being deleted; merge_requests_everyone, builds_everyone, wiki_everyone, container_registry_everyone and pages_everyone count those whose level for that feature is 20 or more. namespaces, the group size, counts the distinct namespaces owning them. Loaded weekly as a time series.
-- owner: @gitlab-org/analytics-section
-- group_size: namespaces
-- entity: namespace
-- schedule: weekly
-- load: append
-- timeout: 5m
-- tags: adoption

-- Changed for the guard: first written as one UNION ALL branch per feature
-- over the same projects, grouped by that feature's access level. Branches
-- over one table can overlap, and two rows that differ by a few projects
-- tell those projects' settings (guard/entity), so the other features are
-- FILTERed counts in one SELECT.
WITH live AS (
    SELECT p.namespace_id,
           pf.issues_access_level,
           pf.merge_requests_access_level,
           pf.builds_access_level,
           pf.wiki_access_level,
           pf.container_registry_access_level,
           pf.pages_access_level
    FROM projects p
    JOIN project_features pf ON pf.project_id = p.id
    WHERE NOT p.archived
      AND NOT coalesce(p.pending_delete, false)
)
SELECT issues_access_level AS access_level,
       count(*) AS projects,
       count(DISTINCT namespace_id) AS namespaces,
       count(*) FILTER (WHERE merge_requests_access_level >= 20) AS merge_requests_everyone,
       count(*) FILTER (WHERE builds_access_level >= 20) AS builds_everyone,
       count(*) FILTER (WHERE wiki_access_level >= 20) AS wiki_everyone,
       count(*) FILTER (WHERE container_registry_access_level >= 20) AS container_registry_everyone,
       count(*) FILTER (WHERE pages_access_level >= 20) AS pages_everyone
FROM live
GROUP BY 1
ORDER BY 1
