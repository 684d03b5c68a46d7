-- description: Issues per quarter of creation (UTC) and discussion size (human comments: none, 1-3, 4-9, 10 or more): issues counts them, closed those closed at the snapshot; median_hours_to_first_comment is the hours from creation to the first human comment, of issues that have one. issue_authors, the group size, counts distinct issue authors. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan

-- One row per issue with its comment count and first comment time, from a
-- LEFT JOIN LATERAL so that issues without comments stay in.
SELECT date_trunc('quarter', i.created_at)::date AS quarter,
       CASE
           WHEN c.comments = 0 THEN 'none'
           WHEN c.comments <= 3 THEN '1-3'
           WHEN c.comments <= 9 THEN '4-9'
           ELSE '10+'
       END AS discussion,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE i.state_id = 2) AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.first_comment_at - i.created_at) / 3600) AS median_hours_to_first_comment
FROM issues i
LEFT JOIN LATERAL (
    SELECT count(*) AS comments,
           min(n.created_at) AS first_comment_at
    FROM notes n
    WHERE n.noteable_id = i.id
      AND n.noteable_type = 'Issue'
      AND NOT n.system
) c ON true
GROUP BY 1, 2
ORDER BY 1, 2
