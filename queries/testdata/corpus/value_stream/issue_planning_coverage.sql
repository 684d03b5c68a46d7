-- description: How well new issues are planned, per month of issue creation (UTC): issues counts them; with_milestone, with_weight, with_due_date and labelled count those with a milestone, a weight, a due date, or at least one label at the snapshot; milestone_rate is with_milestone / issues (0 to 1). issue_authors, the group size, counts distinct issue authors. The current month is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, stage::plan

SELECT date_trunc('month', i.created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE i.milestone_id IS NOT NULL) AS with_milestone,
       count(*) FILTER (WHERE i.weight IS NOT NULL) AS with_weight,
       count(*) FILTER (WHERE i.due_date IS NOT NULL) AS with_due_date,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM label_links ll WHERE ll.target_id = i.id AND ll.target_type = 'Issue')) AS labelled,
       round(count(*) FILTER (WHERE i.milestone_id IS NOT NULL)::numeric / count(*), 4) AS milestone_rate
FROM issues i
GROUP BY 1
ORDER BY 1
