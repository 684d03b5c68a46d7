-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, max(CASE WHEN d.rk = 1 THEN d.created_at END) AS top FROM (SELECT u.created_at, rank() OVER (ORDER BY u.sign_in_count DESC) AS rk FROM users u) d
