-- description: Duration of successful CI pipelines per month of pipeline creation (UTC) and pipeline source (push, merge_request_event, schedule, web, api, trigger, parent_pipeline, other): pipelines counts them; median_minutes, p90_minutes and p99_minutes are percentiles of ci_pipelines.duration (seconds the pipeline's jobs ran, excluding queueing, in minutes); avg_minutes is the mean. projects, the group size, counts the distinct projects that ran them. The current month is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: projects
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: ci, stage::verify

-- ci_pipelines.source is GitLab's enum: 1 push, 2 web, 3 trigger, 4 schedule,
-- 5 api, 10 merge_request_event, 12 parent_pipeline.
SELECT date_trunc('month', created_at)::date AS month,
       CASE source
           WHEN 1 THEN 'push'
           WHEN 2 THEN 'web'
           WHEN 3 THEN 'trigger'
           WHEN 4 THEN 'schedule'
           WHEN 5 THEN 'api'
           WHEN 10 THEN 'merge_request_event'
           WHEN 12 THEN 'parent_pipeline'
           ELSE 'other'
       END AS pipeline_source,
       count(*) AS pipelines,
       count(DISTINCT project_id) AS projects,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration / 60.0) AS median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY duration / 60.0) AS p90_minutes,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration / 60.0) AS p99_minutes,
       round(avg(duration) / 60.0, 2) AS avg_minutes
FROM ci_pipelines
WHERE status = 'success'
  AND duration IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
