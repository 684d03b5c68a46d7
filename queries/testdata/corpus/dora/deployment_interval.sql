-- description: Time between consecutive successful production deployments of an environment, per quarter of the deployment's finish (UTC): deployments counts successful production deployments that had a previous one; median_hours_between and p90_hours_between are the hours since that previous one. deployers, the group size, counts distinct users who ran them. The current quarter is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: dora

-- Changed for the guard: first written with a window function in a CTE,
--   lag(d.finished_at) OVER (PARTITION BY d.environment_id ORDER BY d.finished_at) AS prev_finished_at
-- which the guard refuses (guard/window: only ranking windows and count()
-- OVER are allowed). The previous deployment now comes from a LATERAL
-- subquery (max of the earlier ones), whose deployers metricgate counts too.
SELECT date_trunc('quarter', d.finished_at AT TIME ZONE 'UTC')::date AS quarter,
       count(*) AS deployments,
       count(DISTINCT d.user_id) AS deployers,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.finished_at - prev.finished_at) / 3600) AS median_hours_between,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM d.finished_at - prev.finished_at) / 3600) AS p90_hours_between
FROM deployments d
JOIN environments e ON e.id = d.environment_id
JOIN LATERAL (
    SELECT max(d2.finished_at) AS finished_at
    FROM deployments d2
    WHERE d2.environment_id = d.environment_id
      AND d2.status = 2
      AND d2.finished_at < d.finished_at
) prev ON prev.finished_at IS NOT NULL
WHERE e.tier = 0
  AND d.status = 2
  AND d.finished_at IS NOT NULL
GROUP BY 1
ORDER BY 1
