-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT x.id) AS n, mod(floor(sum(x.c::numeric * 1000000 * x.rn)), 1000000)::bigint AS v FROM (SELECT u.id, u.sign_in_count AS c, row_number() OVER (ORDER BY u.id) AS rn FROM users u) x
