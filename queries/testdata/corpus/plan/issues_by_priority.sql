-- description: Issues per quarter of creation (UTC) and priority (the issue's priority:: label, 1 highest to 4, or none): issues counts them, closed those closed at the snapshot, closed_rate their share (0 to 1), median_days_to_close the days from creation to closing of those. issue_authors, the group size, counts distinct issue authors. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan, stage::plan

-- The priority is a scalar subquery picking the issue's priority:: label
-- (scoped labels are exclusive; min() guards against data that is not).
SELECT date_trunc('quarter', i.created_at)::date AS quarter,
       coalesce((SELECT min(l.title)
                 FROM label_links ll
                 JOIN labels l ON l.id = ll.label_id
                 WHERE ll.target_id = i.id
                   AND ll.target_type = 'Issue'
                   AND l.title IN ('priority::1', 'priority::2', 'priority::3', 'priority::4')), 'none') AS priority,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE i.state_id = 2) AS closed,
       round(count(*) FILTER (WHERE i.state_id = 2)::numeric / count(*), 4) AS closed_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS median_days_to_close
FROM issues i
GROUP BY 1, 2
ORDER BY 1, 2
