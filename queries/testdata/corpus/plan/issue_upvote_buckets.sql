-- description: Issues per half-year of creation (UTC) and upvote bucket (0, 1, 2-4, 5 or more upvotes at the snapshot): issues counts them, closed those closed, closed_rate their share (0 to 1), median_days_to_close the days from creation to closing of those. issue_authors, the group size, counts distinct issue authors. The current half-year is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan

WITH bucketed AS (
    SELECT i.author_id,
           i.state_id,
           i.created_at,
           i.closed_at,
           CASE
               WHEN i.upvotes_count = 0 THEN '0'
               WHEN i.upvotes_count = 1 THEN '1'
               WHEN i.upvotes_count <= 4 THEN '2-4'
               ELSE '5+'
           END AS upvotes
    FROM issues i
)
SELECT make_date(extract(year FROM created_at)::int, CASE WHEN extract(month FROM created_at) <= 6 THEN 1 ELSE 7 END, 1) AS half_year,
       upvotes,
       count(*) AS issues,
       count(DISTINCT author_id) AS issue_authors,
       count(*) FILTER (WHERE state_id = 2) AS closed,
       round(count(*) FILTER (WHERE state_id = 2)::numeric / count(*), 4) AS closed_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - (created_at AT TIME ZONE 'UTC')) / 86400) AS median_days_to_close
FROM bucketed
GROUP BY 1, 2
ORDER BY 1, 2
