-- description: Issue throughput per month of closing (UTC) and label, for the shared triage labels only (type::bug, type::feature, type::maintenance, priority::1 to 4, bug, enhancement, question): closed_issues counts distinct closed issues with the label, projects their distinct projects, median_days_to_close the median days from creation to closing. issue_authors, the group size, counts their distinct authors. An issue with several of these labels counts under each. The current month is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan, stage::plan

-- Label titles are free text that people type, in private projects too: a
-- title can name a customer or an unreleased feature. The query therefore
-- groups only by the labels listed here, never by every title.
-- A project label and a group label can share a title, so the same issue can
-- reach a title twice: count(DISTINCT i.id), not count(*).
SELECT date_trunc('month', i.closed_at AT TIME ZONE 'UTC')::date AS month,
       l.title AS label,
       count(DISTINCT i.id) AS closed_issues,
       count(DISTINCT i.project_id) AS projects,
       count(DISTINCT i.author_id) AS issue_authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS median_days_to_close
FROM issues i
JOIN label_links ll ON ll.target_id = i.id AND ll.target_type = 'Issue'
JOIN labels l ON l.id = ll.label_id
WHERE i.state_id = 2
  AND i.closed_at IS NOT NULL
  AND l.title IN ('type::bug', 'type::feature', 'type::maintenance',
                  'priority::1', 'priority::2', 'priority::3', 'priority::4',
                  'bug', 'enhancement', 'question')
GROUP BY 1, 2
ORDER BY 1, 2
