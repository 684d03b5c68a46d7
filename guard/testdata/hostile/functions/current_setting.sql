-- description: hostile input
-- owner: @security
-- group_size: n

SELECT current_setting('data_directory') AS d, count(*) AS n FROM issues GROUP BY 1
