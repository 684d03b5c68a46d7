-- description: Bugs (issues labelled type::bug) per half-year of creation (UTC) and severity (the issue's severity:: label, severity::1 most severe to severity::4, or unassessed): bugs counts them, closed those closed at the snapshot, median_days_to_close and p90_days_to_close the days from creation to closing of those. issue_authors, the group size, counts distinct issue authors. The current half-year is partial.
-- owner: @gitlab-org/quality
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan, quality

-- The severity is a scalar subquery picking the issue's severity:: label
-- (scoped, so at most one); bugs without one are 'unassessed'.
SELECT make_date(extract(year FROM i.created_at)::int, CASE WHEN extract(month FROM i.created_at) <= 6 THEN 1 ELSE 7 END, 1) AS half_year,
       coalesce((SELECT l.title
                 FROM label_links ll
                 JOIN labels l ON l.id = ll.label_id
                 WHERE ll.target_id = i.id
                   AND ll.target_type = 'Issue'
                   AND l.title LIKE 'severity::%'
                 ORDER BY l.title
                 LIMIT 1), 'unassessed') AS severity,
       count(*) AS bugs,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE i.state_id = 2) AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS median_days_to_close,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.closed_at - (i.created_at AT TIME ZONE 'UTC')) / 86400) AS p90_days_to_close
FROM issues i
WHERE EXISTS (SELECT 1
              FROM label_links ll
              JOIN labels l ON l.id = ll.label_id
              WHERE ll.target_id = i.id
                AND ll.target_type = 'Issue'
                AND l.title = 'type::bug')
GROUP BY 1, 2
ORDER BY 1, 2
