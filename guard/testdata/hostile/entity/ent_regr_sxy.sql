-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, regr_sxy(u.sign_in_count, u.admin::int) AS sxy FROM users u
