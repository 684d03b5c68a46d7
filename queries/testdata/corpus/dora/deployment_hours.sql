-- description: Production deployments per quarter of finish (UTC) and time of day (business hours: Monday to Friday 08:00 to 18:00 UTC; off hours: the rest): deployments counts finished ones, failed the failed ones, failure_rate their share (0 to 1), median_minutes the median minutes from creation to finish. deployers, the group size, counts distinct users who ran them. The current quarter is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: deployers
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: dora

SELECT date_trunc('quarter', d.finished_at AT TIME ZONE 'UTC')::date AS quarter,
       CASE
           WHEN extract(isodow FROM d.finished_at AT TIME ZONE 'UTC') <= 5
            AND extract(hour FROM d.finished_at AT TIME ZONE 'UTC') BETWEEN 8 AND 17 THEN 'business_hours'
           ELSE 'off_hours'
       END AS time_of_day,
       count(*) AS deployments,
       count(*) FILTER (WHERE d.status = 3) AS failed,
       round(count(*) FILTER (WHERE d.status = 3)::numeric / count(*), 4) AS failure_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (d.finished_at AT TIME ZONE 'UTC') - d.created_at) / 60) AS median_minutes,
       count(DISTINCT d.user_id) AS deployers
FROM deployments d
JOIN environments e ON e.id = d.environment_id
WHERE e.tier = 0
  AND d.status IN (2, 3)
  AND d.finished_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
