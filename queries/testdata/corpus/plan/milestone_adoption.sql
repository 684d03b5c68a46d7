-- description: Milestone use per month of issue creation (UTC), issues in projects whose issues feature is enabled: issues counts them; with_milestone those with a milestone at the snapshot, in_group_milestone those whose milestone belongs to a group, milestone_rate is with_milestone / issues (0 to 1); median_hours_to_milestone the hours from creation until first associated with one. issue_authors, the group size, counts distinct issue authors. The current month is partial.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan, stage::plan

SELECT date_trunc('month', i.created_at)::date AS month,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(ms.id) AS with_milestone,
       count(*) FILTER (WHERE ms.group_id IS NOT NULL) AS in_group_milestone,
       round(count(ms.id)::numeric / count(*), 4) AS milestone_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM im.first_associated_with_milestone_at - i.created_at) / 3600) AS median_hours_to_milestone
FROM issues i
JOIN project_features pf ON pf.project_id = i.project_id
LEFT JOIN milestones ms ON ms.id = i.milestone_id
LEFT JOIN issue_metrics im ON im.issue_id = i.id
WHERE pf.issues_access_level > 0
GROUP BY 1
ORDER BY 1
