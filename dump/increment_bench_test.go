package dump_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// BenchmarkIncrement measures, on one gitlabfake database (scale
// DUMP_BENCH_SCALE, default 35: about 5 million rows) with the
// repository's dump.yml, a full dump against an increment after 1 % of
// the rows of every incremental table were updated, in the same run, and
// reports their ratio (target: under 0.10). Run it with -benchtime 1x:
//
//	go test -run '^$' -bench Increment -benchtime 1x -timeout 60m ./dump/
func BenchmarkIncrement(b *testing.B) {
	scale := 35
	if s, err := strconv.Atoi(os.Getenv("DUMP_BENCH_SCALE")); err == nil && s > 0 {
		scale = s
	}
	ctx := b.Context()
	dsn := pgtest.New(b)
	conn := pgtest.Connect(b, dsn)
	if _, err := gitlabfake.Load(ctx, conn, gitlabfake.Options{Scale: scale}); err != nil {
		b.Fatal(err)
	}
	def := repoDefinition(b)
	// The index an increment's range scan needs, on every incremental
	// table and every table whose updated_at a scope reads: GitLab has
	// one on issues (index_issues_on_updated_at); on a restored backup the
	// restore job adds the others (README: incremental mode).
	// DUMP_BENCH_NO_INDEX=1 measures without them.
	if os.Getenv("DUMP_BENCH_NO_INDEX") == "" {
		for _, t := range []string{"issues", "issue_metrics", "merge_requests", "merge_request_metrics", "notes", "label_links",
			"events", "ci_pipelines", "milestones", "labels"} {
			if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE INDEX IF NOT EXISTS mg_bench_%s_updated_at ON %s (updated_at)", t, t)); err != nil {
				b.Fatal(err)
			}
		}
	}
	store := newStore(b)
	var logs syncBuffer
	x := exporter(b, dsn, fileBucket(b, filepath.Join(b.TempDir(), "bucket")), store, &logs, dump.Config{Keep: 1000})
	var fullTime, incrTime time.Duration
	var fullRows, incrRows, touched int64
	for b.Loop() {
		t0 := time.Now()
		m, err := x.DumpKind(ctx, def, dump.KindFull)
		if err != nil {
			b.Fatal(err)
		}
		fullTime += time.Since(t0)
		for _, t := range m.Tables {
			fullRows += t.Rows
		}
		// 1 % of the rows of every incremental table changes.
		for _, t := range def.Tables {
			if t.Mode != dump.KindIncremental {
				continue
			}
			tag, err := conn.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s = %s WHERE id %% 100 = 7`, t.Name, t.UpdatedAt, "now()"))
			if err != nil {
				b.Fatal(err)
			}
			touched += tag.RowsAffected()
		}
		// As on a restored backup, which is vacuumed: the visibility map is
		// set again after the updates, so the scans of the keys' indexes
		// (every key of the table, the candidates) are index-only, and the
		// planner's estimates are fresh.
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		m, err = x.DumpKind(ctx, def, dump.KindIncremental)
		if err != nil {
			b.Fatal(err)
		}
		incrTime += time.Since(t0)
		for _, t := range m.Tables {
			incrRows += t.Rows
		}
	}
	n := float64(b.N)
	if os.Getenv("DUMP_BENCH_LOG") != "" {
		fmt.Fprintln(os.Stderr, logs.String())
	}
	b.ReportMetric(fullTime.Seconds()/n, "full_s")
	b.ReportMetric(incrTime.Seconds()/n, "increment_s")
	b.ReportMetric(float64(fullRows)/n, "full_rows")
	b.ReportMetric(float64(incrRows)/n, "increment_rows")
	b.ReportMetric(float64(touched)/n, "touched_rows")
	b.ReportMetric(incrTime.Seconds()/fullTime.Seconds(), "increment_vs_full")
	b.Logf("full dump %s (%d rows), increment after 1%% of rows changed %s (%d rows): ratio %.3f (target < 0.10)",
		fullTime/time.Duration(b.N), fullRows/int64(b.N), incrTime/time.Duration(b.N), incrRows/int64(b.N), incrTime.Seconds()/fullTime.Seconds())
}
