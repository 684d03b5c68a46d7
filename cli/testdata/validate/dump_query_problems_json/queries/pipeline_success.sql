-- description: Share of successful pipelines per week.
-- owner: @ci-pm, @gitlab-org/verify
-- group_size: pipelines
-- schedule: weekly
-- load: replace
SELECT date_trunc('week', created_at)::date AS week,
       count(*) AS pipelines,
       avg((status = 'success')::int) AS success_rate
FROM ci_pipelines
GROUP BY 1
