-- description: CI pipeline outcomes per ISO week (Monday, UTC) of pipeline creation, over finished pipelines (status success, failed or canceled): pipelines counts them; succeeded, failed and canceled split them; success_rate is succeeded / (succeeded + failed), canceled pipelines left out (0 to 1, NULL if none finished either way); triggering_users counts distinct users who triggered them. projects, the group size, counts the distinct projects that ran them. The current week is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: projects
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: ci, stage::verify

SELECT date_trunc('week', created_at)::date AS week,
       count(*) AS pipelines,
       count(DISTINCT project_id) AS projects,
       count(DISTINCT user_id) AS triggering_users,
       count(*) FILTER (WHERE status = 'success') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'canceled') AS canceled,
       round(count(*) FILTER (WHERE status = 'success')::numeric
             / nullif(count(*) FILTER (WHERE status IN ('success', 'failed')), 0), 4) AS success_rate
FROM ci_pipelines
WHERE status IN ('success', 'failed', 'canceled')
GROUP BY 1
ORDER BY 1
