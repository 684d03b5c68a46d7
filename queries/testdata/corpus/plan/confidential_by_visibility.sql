-- description: Issues per month of creation (UTC) and project visibility (private, internal, public): issues counts them, confidential those marked confidential at the snapshot, confidential_rate their share (0 to 1). issue_authors, the group size, counts distinct issue authors. The current month is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan, security

SELECT date_trunc('month', i.created_at)::date AS month,
       CASE p.visibility_level WHEN 0 THEN 'private' WHEN 10 THEN 'internal' WHEN 20 THEN 'public' ELSE 'other' END AS visibility,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE i.confidential) AS confidential,
       round(count(*) FILTER (WHERE i.confidential)::numeric / count(*), 4) AS confidential_rate
FROM issues i
JOIN projects p ON p.id = i.project_id
GROUP BY 1, 2
ORDER BY 1, 2
