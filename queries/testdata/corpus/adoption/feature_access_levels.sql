-- description: How projects configure their features, at the snapshot, per feature (issues, merge_requests, builds, wiki, container_registry, pages) and access level (0 disabled, 10 members only, 20 everyone with access, 30 everyone): projects counts projects neither archived nor being deleted. namespaces, the group size, counts the distinct namespaces owning them. Loaded weekly as a time series.
-- owner: @gitlab-org/analytics-section
-- group_size: namespaces
-- entity: namespace
-- schedule: weekly
-- load: append
-- timeout: 5m
-- tags: adoption

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
SELECT 'issues' AS feature, issues_access_level AS access_level, count(*) AS projects, count(DISTINCT namespace_id) AS namespaces FROM live GROUP BY 2
UNION ALL
SELECT 'merge_requests', merge_requests_access_level, count(*), count(DISTINCT namespace_id) FROM live GROUP BY 2
UNION ALL
SELECT 'builds', builds_access_level, count(*), count(DISTINCT namespace_id) FROM live GROUP BY 2
UNION ALL
SELECT 'wiki', wiki_access_level, count(*), count(DISTINCT namespace_id) FROM live GROUP BY 2
UNION ALL
SELECT 'container_registry', container_registry_access_level, count(*), count(DISTINCT namespace_id) FROM live GROUP BY 2
UNION ALL
SELECT 'pages', pages_access_level, count(*), count(DISTINCT namespace_id) FROM live GROUP BY 2
ORDER BY 1, 2
