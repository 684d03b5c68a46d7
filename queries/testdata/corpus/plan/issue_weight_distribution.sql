-- description: Closed issues per quarter of closing (UTC) and weight (1 to 8, or unweighted): closed_issues counts them; median_days_to_close and p90_days_to_close are the days from creation to closing; with_milestone counts those that had a milestone. issue_authors, the group size, counts distinct issue authors. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan, stage::plan

SELECT date_trunc('quarter', i.closed_at AT TIME ZONE 'UTC')::date AS quarter,
       coalesce(i.weight::text, 'unweighted') AS weight,
       count(*) AS closed_issues,
       count(DISTINCT i.author_id) AS issue_authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS median_days_to_close,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS p90_days_to_close,
       count(*) FILTER (WHERE i.milestone_id IS NOT NULL) AS with_milestone
FROM issues i
WHERE i.state_id = 2
  AND i.closed_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
