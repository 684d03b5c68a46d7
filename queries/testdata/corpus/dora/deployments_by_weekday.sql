-- description: Production deployments per ISO weekday (1 Monday to 7 Sunday, UTC) of the deployment's finish, all deployments up to the snapshot: deployments counts successful ones, failed the failed ones, failure_rate is failed / (deployments + failed) (0 to 1). deployers, the group size, counts distinct users who ran them.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: weekly
-- load: append
-- timeout: 10m
-- tags: dora

SELECT extract(isodow FROM d.finished_at AT TIME ZONE 'UTC') AS iso_weekday,
       count(*) FILTER (WHERE d.status = 2) AS deployments,
       count(*) FILTER (WHERE d.status = 3) AS failed,
       round(count(*) FILTER (WHERE d.status = 3)::numeric / nullif(count(*), 0), 4) AS failure_rate,
       count(DISTINCT d.user_id) AS deployers
FROM deployments d
JOIN environments e ON e.id = d.environment_id
WHERE e.tier = 0
  AND d.status IN (2, 3)
  AND d.finished_at IS NOT NULL
GROUP BY 1
ORDER BY 1
