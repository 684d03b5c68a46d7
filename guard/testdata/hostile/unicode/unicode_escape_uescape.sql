-- description: hostile input
-- owner: @security
-- group_size: n

SELECT U&"!0065ncrypted_password" UESCAPE '!' AS x, count(*) AS n FROM users GROUP BY 1
