-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, sum(u.sign_in_count) FILTER (WHERE u.sign_in_count > 100 OR u.created_at = timestamp '2019-11-02 04:17:26.691619') AS s FROM users u
