-- description: DORA change failure rate per month of the deployment's finish (UTC), production-tier environments only: deployments counts finished deployments (success or failed), failed those that failed, change_failure_rate is failed / deployments (0 to 1). deployers, the group size, counts distinct users who ran them. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: dora

SELECT date_trunc('month', d.finished_at AT TIME ZONE 'UTC')::date AS month,
       count(*) AS deployments,
       count(*) FILTER (WHERE d.status = 3) AS failed,
       round(count(*) FILTER (WHERE d.status = 3)::numeric / count(*), 4) AS change_failure_rate,
       count(DISTINCT d.user_id) AS deployers
FROM deployments d
JOIN environments e ON e.id = d.environment_id
WHERE e.tier = 0
  AND d.status IN (2, 3)
  AND d.finished_at IS NOT NULL
GROUP BY 1
ORDER BY 1
