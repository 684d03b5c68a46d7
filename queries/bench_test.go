package queries_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// BenchmarkEntityCounts runs every example query twice on the same
// GitLab-shaped data (scale ENTITY_BENCH_SCALE, default 10): as written,
// and as the runner runs it, with the guard's hidden columns that count the
// people behind every row and cell and the entity filter. It reports the
// ratio of the two total times (target ≤ 1.10) and logs it per query. The
// two runs of a query alternate in order from one iteration to the next,
// so that neither always finds the cache warm.
func BenchmarkEntityCounts(b *testing.B) {
	scale := 10
	if s := os.Getenv("ENTITY_BENCH_SCALE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("ENTITY_BENCH_SCALE=%q: %v", s, err)
		}
		scale = n
	}
	ctx := b.Context()
	dsn := pgtest.New(b)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	stats, err := gitlabfake.Load(ctx, conn, gitlabfake.Options{Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("gitlabfake scale %d: %d rows", scale, stats.Total())
	cat := loadCatalog(b)
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		b.Fatal(err)
	}
	type timing struct {
		name          string
		plain, counts time.Duration
		rows, kept    int
	}
	times := make([]timing, len(cat.Queries))
	drain := func(sql string, hidden int, k int) (int, int) {
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
		defer rows.Close()
		filter := &guard.EntityFilter{Min: int64(k)}
		n := 0
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				b.Fatal(err)
			}
			n++
			if hidden > 0 {
				if _, err := filter.Keep(vals[len(vals)-hidden:]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return n, int(filter.Kept)
	}
	iter := 0
	for b.Loop() {
		for i, q := range cat.Queries {
			an, vs := g.CheckQuery(q)
			if len(vs) > 0 {
				b.Fatalf("%s: %v", q.Name, vs)
			}
			times[i].name = q.Name
			run := func(counts bool) {
				start := time.Now()
				if counts {
					_, times[i].kept = drain(an.SQL(q.MinGroupSize), guard.HiddenColumns, q.MinGroupSize)
					times[i].counts += time.Since(start)
				} else {
					times[i].rows, _ = drain(q.Text, 0, q.MinGroupSize)
					times[i].plain += time.Since(start)
				}
			}
			first := iter%2 == 0
			run(!first)
			run(first)
		}
		iter++
	}
	var plain, counts time.Duration
	var b2 strings.Builder
	fmt.Fprintf(&b2, "%-32s %10s %12s %6s %6s %6s\n", "query", "as written", "with counts", "ratio", "rows", "kept")
	for _, t := range times {
		plain += t.plain
		counts += t.counts
		fmt.Fprintf(&b2, "%-32s %10s %12s %6.2f %6d %6d\n", t.name, (t.plain / time.Duration(iter)).Round(time.Millisecond),
			(t.counts / time.Duration(iter)).Round(time.Millisecond), float64(t.counts)/float64(t.plain), t.rows, t.kept)
	}
	ratio := float64(counts) / float64(plain)
	fmt.Fprintf(&b2, "%-32s %10s %12s %6.2f (target <= 1.10)\n", "all examples", (plain / time.Duration(iter)).Round(time.Millisecond),
		(counts / time.Duration(iter)).Round(time.Millisecond), ratio)
	fmt.Print(b2.String())
	b.ReportMetric(ratio, "counts/plain")
}
