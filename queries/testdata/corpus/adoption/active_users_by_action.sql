-- description: Monthly active users per month (UTC) and kind of activity (events.action: created, updated, closed, pushed, commented, merged, approved, other): events counts the events; active_projects the distinct projects they happened in. active_users, the group size, counts distinct users with at least one such event. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: active_users
-- schedule: daily
-- load: replace
-- timeout: 15m
-- max_cost: 50000000
-- tags: adoption

-- events.action: 1 created, 2 updated, 3 closed, 5 pushed, 6 commented,
-- 7 merged, 12 approved.
SELECT date_trunc('month', e.created_at AT TIME ZONE 'UTC')::date AS month,
       CASE e.action
           WHEN 1 THEN 'created'
           WHEN 2 THEN 'updated'
           WHEN 3 THEN 'closed'
           WHEN 5 THEN 'pushed'
           WHEN 6 THEN 'commented'
           WHEN 7 THEN 'merged'
           WHEN 12 THEN 'approved'
           ELSE 'other'
       END AS action,
       count(*) AS events,
       count(DISTINCT e.project_id) AS active_projects,
       count(DISTINCT e.author_id) AS active_users
FROM events e
GROUP BY 1, 2
ORDER BY 1, 2
