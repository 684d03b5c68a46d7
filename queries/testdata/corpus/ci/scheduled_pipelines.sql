-- description: Scheduled CI pipelines (source schedule) per quarter of creation (UTC): pipelines counts them, projects the distinct projects running them, failed those that failed; median_minutes and p90_minutes are percentiles of ci_pipelines.duration in minutes. schedule_owners, the group size, counts the distinct users the schedules run as. The current quarter is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: schedule_owners
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: ci

SELECT date_trunc('quarter', p.created_at)::date AS quarter,
       count(*) AS pipelines,
       count(DISTINCT p.project_id) AS projects,
       count(DISTINCT p.user_id) AS schedule_owners,
       count(*) FILTER (WHERE p.status = 'failed') AS failed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.duration / 60.0) AS median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY p.duration / 60.0) AS p90_minutes
FROM ci_pipelines p
WHERE p.source = 4
GROUP BY 1
ORDER BY 1
