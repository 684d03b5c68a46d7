-- description: hostile input
-- owner: @security
-- group_size: n

SELECT invite_email, count(*) AS n FROM members GROUP BY 1
