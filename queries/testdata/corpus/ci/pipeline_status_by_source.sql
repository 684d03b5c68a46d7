-- description: CI pipelines per month of creation (UTC) and source (push, schedule, merge_request_event, other): pipelines counts them; succeeded, failed, canceled and skipped split them by status; success_rate is succeeded / (succeeded + failed) (0 to 1, NULL if neither). triggering_users, the group size, counts distinct users who triggered them. The current month is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: triggering_users
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: ci, stage::verify

SELECT date_trunc('month', p.created_at)::date AS month,
       CASE p.source WHEN 1 THEN 'push' WHEN 4 THEN 'schedule' WHEN 10 THEN 'merge_request_event' ELSE 'other' END AS pipeline_source,
       count(*) AS pipelines,
       count(DISTINCT p.user_id) AS triggering_users,
       count(*) FILTER (WHERE p.status = 'success') AS succeeded,
       count(*) FILTER (WHERE p.status = 'failed') AS failed,
       count(*) FILTER (WHERE p.status = 'canceled') AS canceled,
       count(*) FILTER (WHERE p.status = 'skipped') AS skipped,
       round(count(*) FILTER (WHERE p.status = 'success')::numeric
             / nullif(count(*) FILTER (WHERE p.status IN ('success', 'failed')), 0), 4) AS success_rate
FROM ci_pipelines p
GROUP BY 1, 2
ORDER BY 1, 2
