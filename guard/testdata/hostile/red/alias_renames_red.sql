-- description: hostile input
-- owner: @security
-- group_size: n

SELECT email AS harmless, count(*) AS n FROM users GROUP BY 1
