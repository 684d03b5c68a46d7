-- description: Whether an MR's first pipeline passes, per month of MR creation (UTC): mrs counts MRs with at least one finished (success or failed) merge request pipeline; first_green counts those whose first such pipeline succeeded, first_pipeline_success_rate their share (0 to 1); median_pipelines the median number of finished pipelines per MR. authors, the group size, counts distinct MR authors. Recent months still fill in.
-- owner: @gitlab-org/verify-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: ci, code_review

WITH ranked AS (
    SELECT p.merge_request_id,
           p.status,
           row_number() OVER (PARTITION BY p.merge_request_id ORDER BY p.created_at, p.id) AS attempt,
           count(*) OVER (PARTITION BY p.merge_request_id) AS attempts
    FROM ci_pipelines p
    WHERE p.merge_request_id IS NOT NULL
      AND p.status IN ('success', 'failed')
)
SELECT date_trunc('month', m.created_at)::date AS month,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE r.status = 'success') AS first_green,
       round(count(*) FILTER (WHERE r.status = 'success')::numeric / count(*), 4) AS first_pipeline_success_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.attempts) AS median_pipelines
FROM merge_requests m
JOIN ranked r ON r.merge_request_id = m.id AND r.attempt = 1
GROUP BY 1
ORDER BY 1
