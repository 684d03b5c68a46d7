-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT u.id) AS n, bit_or(u.sign_in_count) AS bits FROM users u
