-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues i JOIN projects p ON p.id = i.project_id WHERE p.import_url LIKE 'https://%' AND length(p.import_url) > 40
