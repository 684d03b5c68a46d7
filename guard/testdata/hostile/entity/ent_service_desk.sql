-- description: hostile input
-- owner: @security
-- group_size: n

SELECT i.service_desk_reply_to AS r, count(*) AS n FROM issues i GROUP BY 1
