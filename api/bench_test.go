package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
)

// Load of the benchmark: a history of benchRuns runs of benchQueries
// queries (10,000 query runs), polled at benchRate requests per second.
const (
	benchQueries = 20
	benchRuns    = 500
	benchRate    = 1000
)

// BenchmarkStatusUnderLoad measures GET /api/v1/status on loopback under a
// constant 1,000 requests per second sent by a separate process
// (internal/loadgen, open-loop: latency counts from when a request was
// due), with a history of 10,000 query runs, once with the status cache
// (the default, 1s) and once computing every answer from the history
// (for 3s: it falls behind at once).
// Run it with -benchtime=1x: one iteration is a 10s load (LOADGEN_DURATION
// overrides).
func BenchmarkStatusUnderLoad(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.New(b)
	store, err := history.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	conn := pgtest.Connect(b, dsn)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`
		INSERT INTO runs (trigger, approval, status, started_at, finished_at)
		SELECT 'schedule', 'none', 'succeeded', now() - (%[1]d - g) * interval '1 day',
		       now() - (%[1]d - g) * interval '1 day' + interval '5 minutes'
		FROM generate_series(1, %[1]d) g;
		INSERT INTO query_runs (run_id, query, target, source, status, error, rows_loaded, rows_suppressed,
		                        attempts, sha256, approval, snapshot_time, started_at, finished_at, duration_us)
		SELECT r.id, 'q' || lpad(q::text, 2, '0'), 'q' || q, 'main',
		       CASE WHEN (r.id + q) %% 37 = 0 AND r.id < %[1]d THEN 'failed' ELSE 'succeeded' END,
		       CASE WHEN (r.id + q) %% 37 = 0 AND r.id < %[1]d THEN 'query ran over its timeout 15m (SQLSTATE 57014 query_canceled)' ELSE '' END,
		       100 + (r.id * q) %% 900, CASE WHEN (r.id + q) %% 50 = 0 THEN '0' WHEN (r.id + q) %% 50 < 10 THEN '1-9' ELSE '10-99' END, 1, md5(q::text), 'none',
		       r.started_at, r.started_at, r.started_at + q * interval '3 seconds', q * 3000000
		FROM runs r, generate_series(1, %[2]d) q;
		ANALYZE runs; ANALYZE query_runs;`, benchRuns, benchQueries)); err != nil {
		b.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for q := 1; q <= benchQueries; q++ {
		fsys[fmt.Sprintf("area/q%02d.sql", q)] = file(fmt.Sprintf("query %d", q))
	}
	cat, err := catalog.Load(fsys, catalog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	sched, err := runner.NewScheduler(runner.SchedulerConfig{}, runner.SchedulerDeps{Runner: &blockingRun{}, Store: store,
		Plan: func(context.Context, []string, bool, time.Time) (runner.Options, error) { return runner.Options{}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	loadgen := filepath.Join(b.TempDir(), "loadgen")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", loadgen, "./internal/loadgen").CombinedOutput(); err != nil {
		b.Fatalf("build loadgen: %v\n%s", err, out)
	}
	duration := 10 * time.Second
	if s := os.Getenv("LOADGEN_DURATION"); s != "" {
		if duration, err = time.ParseDuration(s); err != nil {
			b.Fatal(err)
		}
	}

	// Without the cache the server falls behind at once: 3s show it, and
	// keep the backlog (and the benchmark) short.
	for _, bc := range []struct {
		name     string
		ttl      time.Duration
		duration time.Duration
	}{{"cache=1s", 0, duration}, {"cache=off", -1, min(duration, 3*time.Second)}} {
		b.Run(bc.name, func(b *testing.B) {
			a, err := api.New(api.Config{Token: runToken, CacheTTL: bc.ttl},
				api.Deps{History: store, Runs: sched, Catalog: func() *catalog.Catalog { return cat },
					Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			ln, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := api.NewServer(ln.Addr().String(), a, slog.New(slog.DiscardHandler))
			go func() { _ = srv.Serve(ln) }()
			defer func() { _ = srv.Close() }()
			url := "http://" + ln.Addr().String() + "/api/v1/status"
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil) // warm-up, and a check
			if err != nil {
				b.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d, want 200 (a fresh history)", url, resp.StatusCode)
			}
			var res struct {
				Requests, OK, Errors int
				AchievedRPS          float64 `json:"achieved_rps"`
				P50ms                float64 `json:"p50_ms"`
				P90ms                float64 `json:"p90_ms"`
				P99ms                float64 `json:"p99_ms"`
				Maxms                float64 `json:"max_ms"`
				FirstError           string  `json:"first_error"`
			}
			for b.Loop() {
				out, err := exec.CommandContext(ctx, loadgen, "-url", url, "-rate", fmt.Sprint(benchRate),
					"-duration", bc.duration.String()).Output()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					b.Fatalf("loadgen: %v\n%s", err, ee.Stderr)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := json.Unmarshal(out, &res); err != nil {
					b.Fatalf("loadgen output %q: %v", out, err)
				}
			}
			b.ReportMetric(res.P50ms, "p50-ms")
			b.ReportMetric(res.P90ms, "p90-ms")
			b.ReportMetric(res.P99ms, "p99-ms")
			b.ReportMetric(res.Maxms, "max-ms")
			b.ReportMetric(res.AchievedRPS, "req/s")
			b.ReportMetric(float64(res.Errors), "errors")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s, %d query runs: %d requests at %d/s for %s: p50 %.2fms p90 %.2fms p99 %.2fms max %.1fms, %.0f req/s, %d errors %s",
				bc.name, benchRuns*benchQueries, res.Requests, benchRate, bc.duration, res.P50ms, res.P90ms, res.P99ms, res.Maxms,
				res.AchievedRPS, res.Errors, res.FirstError)
		})
	}
}
