package catalog

import (
	"fmt"
	"testing"
	"testing/fstest"
)

// BenchmarkLoad1000 loads 1,000 valid query files spread over 20 areas,
// each with a full header and a few lines of SQL.
func BenchmarkLoad1000(b *testing.B) {
	fsys := fstest.MapFS{}
	schedules := []string{"daily", "weekly", "monthly", "30 4 * * 1-5"}
	for i := range 1000 {
		src := fmt.Sprintf(`-- description: Generated query number %d, counting merge requests per month and project.
-- owner: @pm-%d, @gitlab-org/area-%d
-- group_size: mr_count
-- min_group_size: %d
-- schedule: %s
-- load: append
-- timeout: 10m
-- max_rows: 50000
-- tags: stage::create, generated

-- Months with fewer than min_group_size merge requests are dropped.
SELECT date_trunc('month', m.created_at)::date AS month,
       m.target_project_id,
       count(*) AS mr_count
FROM merge_requests m
WHERE m.created_at >= now() - interval '2 years'
GROUP BY 1, 2
`, i, i%50, i%20, 10+i%5, schedules[i%len(schedules)])
		fsys[fmt.Sprintf("area_%02d/query_%04d.sql", i%20, i)] = &fstest.MapFile{Data: []byte(src)}
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := Load(fsys, Config{})
		if err != nil || len(c.Queries) != 1000 {
			b.Fatalf("Load: %d queries, %v", len(c.Queries), err)
		}
	}
}
