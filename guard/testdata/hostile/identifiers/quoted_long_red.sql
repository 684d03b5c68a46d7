-- description: hostile input
-- owner: @security
-- group_size: n

SELECT "emailxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" AS e, count(*) AS n FROM users GROUP BY 1
