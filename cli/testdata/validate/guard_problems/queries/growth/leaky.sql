-- description: Signups per e-mail domain and the newest user (do not merge).
-- owner: @growth-pm
-- group_size: users
SELECT split_part(email, '@', 2) AS domain,
       count(*) AS users,
       max(username) AS newest,
       string_agg(name, ', ') AS names
FROM users
GROUP BY 1
