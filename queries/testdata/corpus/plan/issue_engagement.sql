-- description: Engagement with new issues per month of creation (UTC): issues counts them; avg_comments is the mean number of human comments per issue, commented counts issues with at least one; avg_upvotes the mean upvote count; avg_labels the mean number of labels at the snapshot. issue_authors, the group size, counts distinct issue authors. Recent months still fill in.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan

-- Changed for the guard: avg_comments was first a scalar subquery inside
-- the aggregate,
--   round(avg((SELECT count(*) FROM notes n WHERE n.noteable_id = i.id
--              AND n.noteable_type = 'Issue' AND NOT n.system)), 2)
-- which the guard refuses (guard/entity: notes has people, not tied to the
-- issue's author). Comments per issue now come from a CTE joined in FROM.
-- The label count was a scalar subquery inside avg() too, which the guard
-- refuses since guard/arithmetic (a subquery's value per row can be one
-- row's); it is a second CTE joined in FROM.
WITH comments AS (
    SELECT n.noteable_id AS issue_id,
           count(*) AS comments
    FROM notes n
    WHERE n.noteable_type = 'Issue'
      AND NOT n.system
    GROUP BY n.noteable_id
),
labels AS (
    SELECT ll.target_id AS issue_id,
           count(*) AS labels
    FROM label_links ll
    WHERE ll.target_type = 'Issue'
    GROUP BY ll.target_id
)
SELECT date_trunc('month', i.created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       round(avg(coalesce(c.comments, 0)), 2) AS avg_comments,
       count(c.issue_id) AS commented,
       round(avg(i.upvotes_count), 2) AS avg_upvotes,
       round(avg(coalesce(l.labels, 0)), 2) AS avg_labels
FROM issues i
LEFT JOIN comments c ON c.issue_id = i.id
LEFT JOIN labels l ON l.issue_id = i.id
GROUP BY 1
ORDER BY 1
