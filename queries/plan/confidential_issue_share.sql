-- description: Confidential issues per month of issue creation (UTC): issues counts all issues created that month, confidential_issues those marked confidential at the snapshot, confidential_rate their share (0 to 1). Counts only: nothing about the issues themselves. issue_authors, the group size, counts the distinct authors of all the month's issues. The current month is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan, stage::plan, security

SELECT date_trunc('month', created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT author_id) AS issue_authors,
       count(*) FILTER (WHERE confidential) AS confidential_issues,
       round(count(*) FILTER (WHERE confidential)::numeric / count(*), 4) AS confidential_rate
FROM issues
GROUP BY 1
ORDER BY 1
