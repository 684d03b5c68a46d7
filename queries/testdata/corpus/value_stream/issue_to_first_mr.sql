-- description: Issues that a merge request closes, per month of issue creation (UTC): issues counts them; median_hours_to_first_mr and p90_hours_to_first_mr are the hours from the issue's creation to the creation of its first closing MR; first_mr_merged counts issues whose first MR was merged, first_mr_merged_rate their share (0 to 1). issue_authors, the group size, counts distinct issue authors. Recent months still fill in.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream

-- row_number() picks the first MR linked to each issue; a window in a CTE
-- is fine, only the top level must aggregate.
WITH first_mr AS (
    SELECT mci.issue_id,
           m.created_at AS mr_created_at,
           m.state_id AS mr_state_id,
           row_number() OVER (PARTITION BY mci.issue_id ORDER BY m.created_at, m.id) AS rn
    FROM merge_requests_closing_issues mci
    JOIN merge_requests m ON m.id = mci.merge_request_id
)
SELECT date_trunc('month', i.created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.mr_created_at - i.created_at) / 3600) AS median_hours_to_first_mr,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM f.mr_created_at - i.created_at) / 3600) AS p90_hours_to_first_mr,
       count(*) FILTER (WHERE f.mr_state_id = 3) AS first_mr_merged,
       round(count(*) FILTER (WHERE f.mr_state_id = 3)::numeric / count(*), 4) AS first_mr_merged_rate
FROM issues i
JOIN first_mr f ON f.issue_id = i.id AND f.rn = 1
GROUP BY 1
ORDER BY 1
