package guard

import "testing"

// BenchmarkCheck measures the guard on a typical reviewed query: a join,
// a CTE, a window function in a subquery and an ordered-set aggregate.
func BenchmarkCheck(b *testing.B) {
	g := testGuard(b)
	const src = `-- description: Median hours from issue creation to its first MR, per month.
-- owner: @pm
-- group_size: issues
WITH first_mr AS (
  SELECT issue_id, created_at
  FROM (SELECT mci.issue_id, mr.created_at,
               row_number() OVER (PARTITION BY mci.issue_id ORDER BY mr.created_at) AS rn
        FROM merge_requests_closing_issues mci
        JOIN merge_requests mr ON mr.id = mci.merge_request_id) s
  WHERE rn = 1
)
SELECT date_trunc('month', i.created_at)::date AS month,
       count(DISTINCT i.id) AS issues,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.created_at - i.created_at) / 3600) AS median_hours
FROM issues i
JOIN first_mr f ON f.issue_id = i.id
JOIN projects p ON p.id = i.project_id
WHERE p.visibility_level = 20 AND NOT i.confidential
GROUP BY 1
`
	for b.Loop() {
		if _, vs := g.Check(src, "issues"); len(vs) > 0 {
			b.Fatal(vs)
		}
	}
}
