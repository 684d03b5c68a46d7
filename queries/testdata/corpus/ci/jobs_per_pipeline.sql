-- description: CI pipelines per month of creation (UTC) and number of jobs (1-4, 5-9, 10 or more): pipelines counts them; avg_jobs is the mean number of jobs; with_failed_job counts pipelines with at least one failed job run by the pipeline's user; median_minutes the median pipeline duration. triggering_users, the group size, counts distinct users who triggered them. The current month is partial.
-- owner: @gitlab-org/verify-stage
-- group_size: triggering_users
-- schedule: daily
-- load: replace
-- timeout: 15m
-- tags: ci

-- ci_builds.commit_id is the pipeline's id.
-- Changed for the guard: failed_jobs was a FILTERed count in per_pipeline,
-- compared in the top-level FILTER (pp.failed_jobs > 0). A subquery's
-- FILTERed value can be one person's among the many its row stands for
-- (guard/entity, round 29), so the failed job is an EXISTS tied to the
-- pipeline's user instead.
WITH per_pipeline AS (
    SELECT b.commit_id AS pipeline_id,
           count(*) AS jobs
    FROM ci_builds b
    GROUP BY b.commit_id
)
SELECT date_trunc('month', p.created_at)::date AS month,
       CASE WHEN pp.jobs < 5 THEN '1-4' WHEN pp.jobs < 10 THEN '5-9' ELSE '10+' END AS jobs_bucket,
       count(*) AS pipelines,
       count(DISTINCT p.user_id) AS triggering_users,
       round(avg(pp.jobs), 2) AS avg_jobs,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ci_builds fb
                                     WHERE fb.commit_id = p.id AND fb.user_id = p.user_id AND fb.status = 'failed')) AS with_failed_job,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.duration / 60.0) AS median_minutes
FROM ci_pipelines p
JOIN per_pipeline pp ON pp.pipeline_id = p.id
GROUP BY 1, 2
ORDER BY 1, 2
