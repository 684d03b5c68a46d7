-- description: Cycle time of closed issues per quarter of closing (UTC) and issue type (the issue's type:: label: bug, feature, maintenance, or none): closed_issues counts them; median_days_to_close and p90_days_to_close are the days from creation to closing. issue_authors, the group size, counts their distinct authors. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, stage::plan

-- The type is a scalar subquery: an issue has at most one type:: label
-- (scoped labels are exclusive), and issues without one form the group
-- 'none'. Label titles are compared with a fixed list, never output as typed.
SELECT date_trunc('quarter', i.closed_at AT TIME ZONE 'UTC')::date AS quarter,
       coalesce((SELECT l.title
                 FROM label_links ll
                 JOIN labels l ON l.id = ll.label_id
                 WHERE ll.target_id = i.id
                   AND ll.target_type = 'Issue'
                   AND l.title IN ('type::bug', 'type::feature', 'type::maintenance')
                 ORDER BY l.title
                 LIMIT 1), 'none') AS issue_type,
       count(*) AS closed_issues,
       count(DISTINCT i.author_id) AS issue_authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS median_days_to_close,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS p90_days_to_close
FROM issues i
WHERE i.state_id = 2
  AND i.closed_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
