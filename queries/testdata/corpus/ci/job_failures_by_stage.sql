-- description: CI jobs per month of creation (UTC) and stage position (ci_builds.stage_idx, 0 the first stage), finished jobs only (success, failed, canceled): jobs counts them; failed counts failed ones, of which allowed_to_fail those allowed to fail; failure_rate is failed / jobs (0 to 1); median_minutes the median run time. triggering_users, the group size, counts distinct users who triggered the jobs. The current month is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: triggering_users
-- schedule: daily
-- load: replace
-- timeout: 15m
-- tags: ci, stage::verify

SELECT date_trunc('month', b.created_at)::date AS month,
       b.stage_idx,
       count(*) AS jobs,
       count(DISTINCT b.user_id) AS triggering_users,
       count(*) FILTER (WHERE b.status = 'failed') AS failed,
       count(*) FILTER (WHERE b.status = 'failed' AND b.allow_failure) AS allowed_to_fail,
       round(count(*) FILTER (WHERE b.status = 'failed')::numeric / count(*), 4) AS failure_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM b.finished_at - b.started_at) / 60) AS median_minutes
FROM ci_builds b
WHERE b.status IN ('success', 'failed', 'canceled')
GROUP BY 1, 2
ORDER BY 1, 2
