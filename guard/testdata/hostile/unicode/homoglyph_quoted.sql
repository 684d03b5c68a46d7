-- description: hostile input
-- owner: @security
-- group_size: n

SELECT "еmail" AS e, count(*) AS n FROM users GROUP BY 1
