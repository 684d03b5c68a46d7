-- description: Issues closed per month.
-- owner: some-pm
-- group_size: issues
-- schedul: daily
-- load: replce
-- min_group_size: 3
-- timeout: ten minutes
SELECT date_trunc('month', closed_at)::date AS month, count(*) AS issues
FROM issues WHERE closed_at IS NOT NULL GROUP BY 1
