-- description: DORA time to restore service, per environment tier (production, staging): failed_deployments counts failed deployments; restored counts those followed by a successful deployment to the same environment; median_hours_to_restore and p90_hours_to_restore are the hours from the failure to that next success. deployers, the group size, counts distinct users who ran the failed deployments.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: weekly
-- load: append
-- timeout: 10m
-- tags: dora

-- LATERAL finds, for each failed deployment, the next successful one to
-- the same environment.
SELECT CASE e.tier WHEN 0 THEN 'production' WHEN 1 THEN 'staging' ELSE 'other' END AS tier,
       count(*) AS failed_deployments,
       count(DISTINCT f.user_id) AS deployers,
       count(nx.restored_at) AS restored,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM nx.restored_at - f.finished_at) / 3600) AS median_hours_to_restore,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM nx.restored_at - f.finished_at) / 3600) AS p90_hours_to_restore
FROM deployments f
JOIN environments e ON e.id = f.environment_id
LEFT JOIN LATERAL (
    SELECT min(d.finished_at) AS restored_at
    FROM deployments d
    WHERE d.environment_id = f.environment_id
      AND d.status = 2
      AND d.finished_at > f.finished_at
) nx ON true
WHERE f.status = 3
  AND f.finished_at IS NOT NULL
GROUP BY 1
ORDER BY 1
