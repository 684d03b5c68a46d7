-- description: hostile input
-- owner: @security
-- group_size: n

SELECT inet_client_addr() AS a, count(*) AS n FROM issues GROUP BY 1
