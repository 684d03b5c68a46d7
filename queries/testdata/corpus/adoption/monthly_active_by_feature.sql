-- description: Monthly active users per feature (issues, merge_requests, pipelines, comments) and month (UTC): items counts the issues, MRs, pipelines or human comments created; users, the group size, counts the distinct users who created them. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: users
-- schedule: daily
-- load: replace
-- timeout: 15m
-- tags: adoption

SELECT 'issues' AS feature,
       date_trunc('month', i.created_at)::date AS month,
       count(*) AS items,
       count(DISTINCT i.author_id) AS users
FROM issues i
GROUP BY 2
UNION ALL
SELECT 'merge_requests',
       date_trunc('month', m.created_at)::date,
       count(*),
       count(DISTINCT m.author_id)
FROM merge_requests m
GROUP BY 2
UNION ALL
SELECT 'pipelines',
       date_trunc('month', p.created_at)::date,
       count(*),
       count(DISTINCT p.user_id)
FROM ci_pipelines p
GROUP BY 2
UNION ALL
SELECT 'comments',
       date_trunc('month', n.created_at)::date,
       count(*),
       count(DISTINCT n.author_id)
FROM notes n
WHERE NOT n.system
GROUP BY 2
ORDER BY 1, 2
