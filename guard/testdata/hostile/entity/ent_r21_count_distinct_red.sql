-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: count(DISTINCT ip) tells two people share an address.
SELECT count(DISTINCT u.id) AS n,
       count(DISTINCT u.current_sign_in_ip) FILTER (WHERE u.created_at >= '2026-05-02') AS ips
FROM users u
