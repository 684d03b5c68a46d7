-- description: CI job queueing per ISO week (Monday, UTC) of job creation: jobs counts jobs that started; median_seconds_queued, p90_seconds_queued and p99_seconds_queued are percentiles of the seconds from queued_at to started_at; queued_over_1m counts jobs that waited more than a minute. triggering_users, the group size, counts distinct users who triggered them. The current week is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: triggering_users
-- schedule: daily
-- load: replace
-- timeout: 15m
-- tags: ci, runner

SELECT date_trunc('week', b.created_at)::date AS week,
       count(*) AS jobs,
       count(DISTINCT b.user_id) AS triggering_users,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM b.started_at - b.queued_at)) AS median_seconds_queued,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM b.started_at - b.queued_at)) AS p90_seconds_queued,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM b.started_at - b.queued_at)) AS p99_seconds_queued,
       count(*) FILTER (WHERE b.started_at - b.queued_at > interval '1 minute') AS queued_over_1m
FROM ci_builds b
WHERE b.started_at IS NOT NULL
  AND b.queued_at IS NOT NULL
GROUP BY 1
ORDER BY 1
