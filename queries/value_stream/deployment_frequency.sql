-- description: DORA deployment frequency, per ISO week (Monday, UTC) of the deployment's finish: deployments counts successful deployments to production-tier environments (environments.tier = 0), deploying_projects the distinct projects that deployed, and deployments_per_project their ratio. deployers, the group size, counts the distinct users who ran those deployments. The current week is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, dora, stage::deploy

-- deployments.status 2 is success (GitLab: created 0, running 1, success 2,
-- failed 3, canceled 4, skipped 5, blocked 6).
SELECT date_trunc('week', d.finished_at AT TIME ZONE 'UTC')::date AS week,
       count(*) AS deployments,
       count(DISTINCT d.project_id) AS deploying_projects,
       count(DISTINCT d.user_id) AS deployers,
       round(count(*)::numeric / count(DISTINCT d.project_id), 2) AS deployments_per_project
FROM deployments d
JOIN environments e ON e.id = d.environment_id
WHERE e.tier = 0
  AND d.status = 2
  AND d.finished_at IS NOT NULL
GROUP BY 1
ORDER BY 1
