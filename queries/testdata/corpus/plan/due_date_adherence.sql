-- description: Issues with a due date, per month of the due date: issues counts them; closed_on_time counts those closed on or before the due date (UTC), closed_late those closed after it, on_time_rate is closed_on_time / issues (0 to 1); median_days_late is the median days past due of the late ones. issue_authors, the group size, counts distinct issue authors. Recent months still fill in.
-- owner: @gitlab-org/plan-stage
-- group_size: issue_authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: plan

SELECT date_trunc('month', i.due_date)::date AS month,
       count(*) AS issues,
       count(DISTINCT i.author_id) AS issue_authors,
       count(*) FILTER (WHERE (i.closed_at AT TIME ZONE 'UTC')::date <= i.due_date) AS closed_on_time,
       count(*) FILTER (WHERE (i.closed_at AT TIME ZONE 'UTC')::date > i.due_date) AS closed_late,
       round(count(*) FILTER (WHERE (i.closed_at AT TIME ZONE 'UTC')::date <= i.due_date)::numeric / count(*), 4) AS on_time_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (i.closed_at AT TIME ZONE 'UTC')::date - i.due_date::date)
           FILTER (WHERE (i.closed_at AT TIME ZONE 'UTC')::date > i.due_date) AS median_days_late
FROM issues i
WHERE i.due_date IS NOT NULL
GROUP BY 1
ORDER BY 1
