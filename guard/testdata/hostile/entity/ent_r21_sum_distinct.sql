-- description: hostile input
-- owner: @security
-- group_size: n

-- DISTINCT in a sum drops repeated values: equal values of two people.
SELECT count(DISTINCT u.id) AS n, sum(DISTINCT u.sign_in_count) AS s FROM users u
