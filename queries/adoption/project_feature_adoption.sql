-- description: Project features switched on, per project visibility level, as of the snapshot, over projects neither archived nor being deleted. projects, the group size, counts them; issues_enabled, merge_requests_enabled, ci_enabled, wiki_enabled, container_registry_enabled and pages_enabled count those whose project_features access level for the feature is above 0 (disabled); ci_enabled_rate is ci_enabled / projects (0 to 1). Loaded weekly as a time series, one slice per snapshot date.
-- owner: @gitlab-org/analytics-section
-- group_size: projects
-- entity: namespace
-- schedule: weekly
-- load: append
-- timeout: 5m
-- tags: adoption

-- project_features has one row per project; access levels are 0 disabled,
-- 10 project members only, 20 everyone with access, 30 everyone (pages).
SELECT p.visibility_level,
       CASE p.visibility_level WHEN 0 THEN 'private' WHEN 10 THEN 'internal' WHEN 20 THEN 'public' ELSE 'other' END AS visibility,
       count(DISTINCT p.id) AS projects,
       count(*) FILTER (WHERE pf.issues_access_level > 0) AS issues_enabled,
       count(*) FILTER (WHERE pf.merge_requests_access_level > 0) AS merge_requests_enabled,
       count(*) FILTER (WHERE pf.builds_access_level > 0) AS ci_enabled,
       count(*) FILTER (WHERE pf.wiki_access_level > 0) AS wiki_enabled,
       count(*) FILTER (WHERE pf.container_registry_access_level > 0) AS container_registry_enabled,
       count(*) FILTER (WHERE pf.pages_access_level > 0) AS pages_enabled,
       round(count(*) FILTER (WHERE pf.builds_access_level > 0)::numeric / count(*), 4) AS ci_enabled_rate
FROM projects p
JOIN project_features pf ON pf.project_id = p.id
WHERE NOT p.archived
  AND NOT coalesce(p.pending_delete, false)
GROUP BY 1, 2
ORDER BY 1
