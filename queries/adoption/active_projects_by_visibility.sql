-- description: Active projects per month (UTC) and project visibility level (private, internal, public, as of the snapshot): a project is active in a month when it has at least one event (push, issue or MR action, comment, ...) in it. active_projects, the group size, counts them; active_users counts the distinct users behind those events; events counts the events. Visibility levels with fewer than min_group_size active projects in a month are not loaded. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: active_projects
-- schedule: daily
-- load: replace
-- timeout: 15m
-- max_cost: 50000000
-- tags: adoption

-- events is one of GitLab's largest tables (GitLab prunes events older than
-- three years). max_cost refuses to run a plan that went wrong, say a
-- nested loop over all events, instead of holding the snapshot for hours.
-- projects.visibility_level: 0 private, 10 internal, 20 public.
SELECT date_trunc('month', e.created_at AT TIME ZONE 'UTC')::date AS month,
       p.visibility_level,
       CASE p.visibility_level WHEN 0 THEN 'private' WHEN 10 THEN 'internal' WHEN 20 THEN 'public' ELSE 'other' END AS visibility,
       count(DISTINCT e.project_id) AS active_projects,
       count(DISTINCT e.author_id) AS active_users,
       count(*) AS events
FROM events e
JOIN projects p ON p.id = e.project_id
GROUP BY 1, 2
ORDER BY 1, 2
