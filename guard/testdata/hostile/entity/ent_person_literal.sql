-- description: hostile input
-- owner: @security
-- group_size: n

SELECT date_trunc('month', mm.merged_at)::date AS m, count(*) AS n FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id WHERE mm.merged_by_id = 145 GROUP BY 1
