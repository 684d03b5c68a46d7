-- description: Closed issues per quarter of closing (UTC) and lead-time bucket (days from creation to closing: under 1, 1 to 7, 7 to 30, 30 to 90, 90 or more): closed_issues counts them, with_weight those that had a weight, avg_weight the mean weight of those. issue_authors, the group size, counts distinct issue authors. The current quarter is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: value_stream

SELECT date_trunc('quarter', i.closed_at AT TIME ZONE 'UTC')::date AS quarter,
       CASE
           WHEN i.closed_at - (i.created_at AT TIME ZONE 'UTC') < interval '1 day' THEN '0-1d'
           WHEN i.closed_at - (i.created_at AT TIME ZONE 'UTC') < interval '7 days' THEN '1-7d'
           WHEN i.closed_at - (i.created_at AT TIME ZONE 'UTC') < interval '30 days' THEN '7-30d'
           WHEN i.closed_at - (i.created_at AT TIME ZONE 'UTC') < interval '90 days' THEN '30-90d'
           ELSE '90d+'
       END AS lead_time_bucket,
       count(*) AS closed_issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(i.weight) AS with_weight,
       round(avg(i.weight), 2) AS avg_weight
FROM issues i
WHERE i.state_id = 2
  AND i.closed_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
