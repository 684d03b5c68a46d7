-- description: hostile input
-- owner: @security
-- group_size: n

SELECT /*+ SeqScan(users) */ email, count(*) AS n FROM users GROUP BY 1
