-- description: New accounts per quarter of account creation (UTC), human accounts only (user_type 0): signups, the group size, counts them; confirmed, external, active, blocked and private_profile count those confirmed, external, in state active or blocked, and with a private profile at the snapshot; median_sign_ins is the median sign-in count. The current quarter is partial.
-- owner: @gitlab-org/growth
-- group_size: signups
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: adoption, growth

SELECT date_trunc('quarter', u.created_at)::date AS quarter,
       count(*) AS signups,
       count(*) FILTER (WHERE u.confirmed_at IS NOT NULL) AS confirmed,
       count(*) FILTER (WHERE u.external) AS external,
       count(*) FILTER (WHERE u.state = 'active') AS active,
       count(*) FILTER (WHERE u.state = 'blocked') AS blocked,
       count(*) FILTER (WHERE u.private_profile) AS private_profile,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY u.sign_in_count) AS median_sign_ins
FROM users u
WHERE u.user_type = 0
GROUP BY 1
ORDER BY 1
