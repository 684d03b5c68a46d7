-- description: Median hours from MR creation to merge, per month.
-- owner: @some-pm
-- group_size: mr_count
-- timeout: 10m
SELECT date_trunc('month', m.created_at)::date AS month,
       count(*) AS mr_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS median_hours
FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE mm.merged_at IS NOT NULL
GROUP BY 1
