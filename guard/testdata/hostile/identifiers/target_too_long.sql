-- description: hostile input
-- owner: @security
-- group_size: n
-- target: tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt

SELECT count(*) AS n FROM issues
