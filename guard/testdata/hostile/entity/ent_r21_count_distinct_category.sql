-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: count(DISTINCT flag) over a moving window tells the new row's flag.
SELECT count(DISTINCT u.id) AS n,
       count(DISTINCT u.otp_required_for_login) FILTER (WHERE u.created_at < '2026-01-13') AS values_to
FROM users u
