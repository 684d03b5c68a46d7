-- description: Human accounts at the snapshot per engagement bucket (sign-ins: 0, 1-9, 10-99, 100 or more) and state (active, blocked, deactivated, other): users, the group size, counts them; authored_issues and authored_mrs count those who ever opened an issue or a merge request. Loaded weekly as a time series.
-- owner: @gitlab-org/growth
-- group_size: users
-- schedule: weekly
-- load: append
-- timeout: 10m
-- tags: adoption, growth

SELECT CASE
           WHEN u.sign_in_count = 0 THEN '0'
           WHEN u.sign_in_count < 10 THEN '1-9'
           WHEN u.sign_in_count < 100 THEN '10-99'
           ELSE '100+'
       END AS sign_in_bucket,
       CASE WHEN u.state IN ('active', 'blocked', 'deactivated') THEN u.state ELSE 'other' END AS state,
       count(*) AS users,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM issues i WHERE i.author_id = u.id)) AS authored_issues,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM merge_requests m WHERE m.author_id = u.id)) AS authored_mrs
FROM users u
WHERE u.user_type = 0
GROUP BY 1, 2
ORDER BY 1, 2
