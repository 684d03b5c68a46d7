-- description: hostile input
-- owner: @security
-- group_size: n

SELECT session_user AS u, count(*) AS n FROM issues GROUP BY 1
