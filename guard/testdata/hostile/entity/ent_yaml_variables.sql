-- description: hostile input
-- owner: @security
-- group_size: n

SELECT b.yaml_variables AS v, count(*) AS n FROM ci_builds b GROUP BY 1
