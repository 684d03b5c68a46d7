package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
)

// BenchmarkValidate1000 measures `metricgate validate` on 1,000 query files
// on disk: reading, headers, the guard and the cross-file checks. One op is
// one validation of all 1,000 files.
func BenchmarkValidate1000(b *testing.B) {
	dir := b.TempDir()
	for i := range 1000 {
		area := filepath.Join(dir, fmt.Sprintf("area%02d", i%20))
		if err := os.MkdirAll(area, 0o755); err != nil {
			b.Fatal(err)
		}
		src := fmt.Sprintf(`-- description: Merge requests merged per month, variant %d.
-- owner: @pm-%d
-- group_size: mr_count
-- schedule: daily
SELECT date_trunc('month', m.created_at)::date AS month,
       p.visibility_level,
       count(DISTINCT m.author_id) AS mr_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS median_hours
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
JOIN projects p ON p.id = m.target_project_id
WHERE mm.merged_at IS NOT NULL AND mm.commits_count > %d
GROUP BY 1, 2
`, i, i%7, i)
		if err := os.WriteFile(filepath.Join(area, fmt.Sprintf("q%04d.sql", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		b.Fatal(err)
	}
	b.Chdir(dir)
	for b.Loop() {
		files, err := collectQueryFiles([]string{"."})
		if err != nil {
			b.Fatal(err)
		}
		v, err := validateFiles(files, catalog.Config{}, g)
		if err != nil {
			b.Fatal(err)
		}
		if v.Files != 1000 || len(v.Problems) != 0 {
			b.Fatalf("%d files, %d problems: %v", v.Files, len(v.Problems), v.Problems)
		}
	}
}
