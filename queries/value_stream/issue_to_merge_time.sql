-- description: Issues that a merge request is linked to close (merge_requests_closing_issues), per month of issue creation (UTC): issues counts them; median/p90_hours_to_first_mr are the hours from the issue's creation to the creation of its first closing MR; median/p90_hours_to_merge the hours to the first merge among its closing MRs (issues without a merged one are left out). issue_authors, the group size, counts distinct issue authors. Recent months still fill in.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- min_group_size: 10
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, stage::plan

-- One row per issue: the first MR linked as closing it, and the first merge
-- among its closing MRs. merge_requests_closing_issues can hold several MRs
-- per issue, so a plain join would count an issue once per MR.
WITH per_issue AS (
    SELECT i.id AS issue_id,
           i.author_id,
           i.created_at,
           min(m.created_at) AS first_mr_at,
           min(mm.merged_at) AS first_merged_at
    FROM issues i
    JOIN merge_requests_closing_issues mci ON mci.issue_id = i.id
    JOIN merge_requests m ON m.id = mci.merge_request_id
    LEFT JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
    GROUP BY i.id, i.author_id, i.created_at
)
SELECT date_trunc('month', created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT author_id) AS issue_authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_mr_at - created_at) / 3600) AS median_hours_to_first_mr,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_mr_at - created_at) / 3600) AS p90_hours_to_first_mr,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_merged_at - created_at) / 3600) AS median_hours_to_merge,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_merged_at - created_at) / 3600) AS p90_hours_to_merge
FROM per_issue
GROUP BY 1
ORDER BY 1
