-- description: Closed issues per month of closing (UTC): closed_issues counts them; closed_by_merged_mr counts those a merged merge request closes (merge_requests_closing_issues), closed_by_merged_mr_rate their share (0 to 1). issue_authors, the group size, counts distinct issue authors. The current month is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, stage::plan

-- Changed for the guard: first written as
--   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM merge_requests_closing_issues mci
--       JOIN merge_requests m ON m.id = mci.merge_request_id
--       WHERE mci.issue_id = i.id AND m.state_id = 3))
-- which the guard refuses (guard/entity): merge_requests has people (its
-- authors) and the subquery does not tie m.author_id to the issue's author.
-- The merged closing MRs now come in through a CTE joined in FROM (one row
-- per issue, GROUP BY), so metricgate counts their authors as well.
WITH merged_closing AS (
    SELECT mci.issue_id
    FROM merge_requests_closing_issues mci
    JOIN merge_requests m ON m.id = mci.merge_request_id
    WHERE m.state_id = 3
    GROUP BY mci.issue_id
)
SELECT date_trunc('month', i.closed_at AT TIME ZONE 'UTC')::date AS month,
       count(*) AS closed_issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(mc.issue_id) AS closed_by_merged_mr,
       round(count(mc.issue_id)::numeric / count(*), 4) AS closed_by_merged_mr_rate
FROM issues i
LEFT JOIN merged_closing mc ON mc.issue_id = i.id
WHERE i.state_id = 2
  AND i.closed_at IS NOT NULL
GROUP BY 1
ORDER BY 1
