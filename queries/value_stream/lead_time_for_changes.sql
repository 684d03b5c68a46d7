-- description: DORA lead time for changes, per month of first production deployment (UTC): for merged MRs that reached a production environment, median_hours and p90_hours from the MR's first commit to its first deployment to production (merge_request_metrics.first_deployed_to_production_at), and median_hours_merge_to_deploy from merge to that deployment. mrs counts the MRs; authors, the group size, counts their distinct authors. The current month is partial.
-- owner: @gitlab-org/analytics-section
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: value_stream, dora

-- first_commit_at is a timestamp with time zone; the other two are system
-- times without one, stored in UTC: AT TIME ZONE 'UTC' makes them comparable
-- whatever the session's time zone.
SELECT date_trunc('month', mm.first_deployed_to_production_at)::date AS month,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (mm.first_deployed_to_production_at AT TIME ZONE 'UTC') - mm.first_commit_at) / 3600) AS median_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM (mm.first_deployed_to_production_at AT TIME ZONE 'UTC') - mm.first_commit_at) / 3600) AS p90_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.first_deployed_to_production_at - mm.merged_at) / 3600) AS median_hours_merge_to_deploy
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE m.state_id = 3
  AND mm.first_deployed_to_production_at IS NOT NULL
  AND mm.first_commit_at IS NOT NULL
GROUP BY 1
ORDER BY 1
