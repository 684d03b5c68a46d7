-- description: Issues per half-year of creation (UTC), split by whether they carry the Community contribution label (community true or false): issues counts them, closed those closed at the snapshot, median_upvotes their median upvote count, confidential those marked confidential. issue_authors, the group size, counts distinct issue authors. The current half-year is partial.
-- owner: @gitlab-org/developer-relations
-- group_size: issue_authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: plan, community

SELECT make_date(extract(year FROM i.created_at)::int, CASE WHEN extract(month FROM i.created_at) <= 6 THEN 1 ELSE 7 END, 1) AS half_year,
       EXISTS (SELECT 1
               FROM label_links ll
               JOIN labels l ON l.id = ll.label_id
               WHERE ll.target_id = i.id
                 AND ll.target_type = 'Issue'
                 AND l.title = 'Community contribution') AS community,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE i.state_id = 2) AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY i.upvotes_count) AS median_upvotes,
       count(*) FILTER (WHERE i.confidential) AS confidential
FROM issues i
GROUP BY 1, 2
ORDER BY 1, 2
