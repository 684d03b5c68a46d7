-- description: CI pipelines per month of creation (UTC), split by protected (true for pipelines on a protected ref, the default branch here; false for branches and MRs): pipelines counts finished ones, failed the failed ones, failure_rate their share (0 to 1); median_minutes and p90_minutes are percentiles of the duration. triggering_users, the group size, counts distinct users who triggered them. The current month is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: triggering_users
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: ci

SELECT date_trunc('month', p.created_at)::date AS month,
       coalesce(p.protected, false) AS protected,
       count(*) AS pipelines,
       count(DISTINCT p.user_id) AS triggering_users,
       count(*) FILTER (WHERE p.status = 'failed') AS failed,
       round(count(*) FILTER (WHERE p.status = 'failed')::numeric / count(*), 4) AS failure_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.duration / 60.0) AS median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY p.duration / 60.0) AS p90_minutes
FROM ci_pipelines p
WHERE p.status IN ('success', 'failed')
GROUP BY 1, 2
ORDER BY 1, 2
