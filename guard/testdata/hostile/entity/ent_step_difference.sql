-- description: hostile input
-- owner: @security
-- group_size: n

SELECT p.visibility_level, count(*) AS n, sum(extract(epoch FROM date_trunc('second', e.created_at - interval '0.25 s') - date_trunc('second', e.created_at - interval '0.250001 s'))) AS leak FROM events e JOIN projects p ON p.id = e.project_id GROUP BY 1
