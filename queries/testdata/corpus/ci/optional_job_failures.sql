-- description: CI jobs per quarter of creation (UTC), split by allow_failure (jobs allowed to fail, such as danger-review, or required ones), jobs that ran (success or failed): jobs counts them, failed the failed ones, failure_rate their share (0 to 1), avg_minutes their mean run time. pipelines counts distinct pipelines. triggering_users, the group size, counts distinct users who triggered them. The current quarter is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: triggering_users
-- schedule: weekly
-- load: replace
-- timeout: 15m
-- tags: ci

SELECT date_trunc('quarter', b.created_at)::date AS quarter,
       b.allow_failure,
       count(*) AS jobs,
       count(DISTINCT b.commit_id) AS pipelines,
       count(DISTINCT b.user_id) AS triggering_users,
       count(*) FILTER (WHERE b.status = 'failed') AS failed,
       round(count(*) FILTER (WHERE b.status = 'failed')::numeric / count(*), 4) AS failure_rate,
       round(avg(extract(epoch FROM b.finished_at - b.started_at) / 60), 2) AS avg_minutes
FROM ci_builds b
WHERE b.status IN ('success', 'failed')
GROUP BY 1, 2
ORDER BY 1, 2
