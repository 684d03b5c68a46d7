-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM ci_builds b WHERE b.yaml_variables::jsonb ->> 'TOKEN' LIKE 'a%'
