-- description: How fast issues move into planning, per month of issue creation (UTC): issues counts them; on_board, with_milestone and mentioned_in_commit count those that reached each step; median_hours_to_board, median_hours_to_milestone and median_hours_to_commit_mention are the hours from creation to the first time each happened (issue_metrics). issue_authors, the group size, counts distinct issue authors. Recent months still fill in.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, stage::plan

SELECT date_trunc('month', i.created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE im.first_added_to_board_at IS NOT NULL) AS on_board,
       count(*) FILTER (WHERE im.first_associated_with_milestone_at IS NOT NULL) AS with_milestone,
       count(*) FILTER (WHERE im.first_mentioned_in_commit_at IS NOT NULL) AS mentioned_in_commit,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM im.first_added_to_board_at - i.created_at) / 3600) AS median_hours_to_board,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM im.first_associated_with_milestone_at - i.created_at) / 3600) AS median_hours_to_milestone,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM im.first_mentioned_in_commit_at - i.created_at) / 3600) AS median_hours_to_commit_mention
FROM issues i
JOIN issue_metrics im ON im.issue_id = i.id
GROUP BY 1
ORDER BY 1
