-- description: Projects per visibility level (private, internal, public) at the snapshot: projects counts them; archived, pending_delete and public_builds count those archived, being deleted, and with public pipelines; starred those with at least one star, median_stars the median star count. namespaces, the group size, counts the distinct namespaces (groups and users) that own them. Loaded weekly as a time series.
-- owner: @gitlab-org/analytics-section
-- group_size: namespaces
-- entity: namespace
-- schedule: weekly
-- load: append
-- timeout: 5m
-- tags: adoption

SELECT CASE p.visibility_level WHEN 0 THEN 'private' WHEN 10 THEN 'internal' WHEN 20 THEN 'public' ELSE 'other' END AS visibility,
       count(*) AS projects,
       count(DISTINCT p.namespace_id) AS namespaces,
       count(*) FILTER (WHERE p.archived) AS archived,
       count(*) FILTER (WHERE p.pending_delete) AS pending_delete,
       count(*) FILTER (WHERE p.public_builds) AS public_builds,
       count(*) FILTER (WHERE p.star_count > 0) AS starred,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.star_count) AS median_stars
FROM projects p
GROUP BY 1
ORDER BY 1
