-- description: Deployments per month of creation (UTC) and environment tier (production, staging): deployments counts them, successful and failed split them by outcome, deploying_projects counts distinct projects that deployed, deployments_per_project their ratio. deployers, the group size, counts distinct users who ran them. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: dora, stage::deploy

-- deployments.status: 2 success, 3 failed, 4 canceled. environments.tier:
-- 0 production, 1 staging.
SELECT date_trunc('month', d.created_at)::date AS month,
       CASE e.tier WHEN 0 THEN 'production' WHEN 1 THEN 'staging' ELSE 'other' END AS tier,
       count(*) AS deployments,
       count(*) FILTER (WHERE d.status = 2) AS successful,
       count(*) FILTER (WHERE d.status = 3) AS failed,
       count(DISTINCT d.project_id) AS deploying_projects,
       round(count(*)::numeric / count(DISTINCT d.project_id), 2) AS deployments_per_project,
       count(DISTINCT d.user_id) AS deployers
FROM deployments d
JOIN environments e ON e.id = d.environment_id
GROUP BY 1, 2
ORDER BY 1, 2
