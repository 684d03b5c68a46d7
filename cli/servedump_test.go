package cli

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// TestDumpScheduler: at start a due dump runs (full) and is loaded; the
// next tick makes an increment and loads it on top; a tick while another
// replica holds the dump lock is skipped and dumps nothing.
func TestDumpScheduler(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(ctx, pgtest.Connect(t, src), gitlabfake.Options{}); err != nil {
		t.Fatal(err)
	}
	store, err := history.Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := &Config{Sources: map[string]SourceConfig{"main": {URL: Secret(src)}}}
	cfg.Dump.Config = filepath.Join("..", "dump.yml")
	cfg.Dump.StorageURL = "file://" + filepath.Join(dir, "dumps") + "?create_dir=true"
	cfg.Dump.PseudonymKey = "scheduler-test-pseudonym-key-0123"
	cfg.Dump.Schedule, cfg.Dump.Load = true, true
	cfg.withDefaults()
	wh, err := openWarehouse(ctx, "duckdb://"+filepath.Join(dir, "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wh.Close() })
	ticks := make(chan time.Time)
	outcomes := make(chan dumpOutcome)
	s := &dumpScheduler{cfg: cfg, store: store, wh: wh.(dump.Warehouse), log: slog.New(slog.DiscardHandler), ticks: ticks,
		done: func(o dumpOutcome) { outcomes <- o }}
	stop := s.start(ctx)
	defer stop()

	first := <-outcomes
	if first.Err != nil || first.Manifest == nil || first.Manifest.Incremental() || first.Load == nil || len(first.Load.Loaded) != 1 {
		t.Fatalf("first tick (due at start): %+v", first)
	}
	ticks <- time.Now()
	second := <-outcomes
	if second.Err != nil || !second.Manifest.Incremental() || second.Manifest.Base != first.Manifest.Location ||
		len(second.Load.Loaded) != 1 || second.Load.Loaded[0].Location != second.Manifest.Location {
		t.Fatalf("second tick: %+v", second)
	}
	release, ok, err := store.TryDumpLock(ctx)
	if err != nil || !ok {
		t.Fatalf("take the dump lock as another replica: %v %v", ok, err)
	}
	ticks <- time.Now()
	third := <-outcomes
	release()
	if !third.Skipped || third.Manifest != nil {
		t.Fatalf("tick while another replica dumps: %+v, want skipped", third)
	}
	dumps, err := store.Dumps(ctx, 0)
	if err != nil || len(dumps) != 2 {
		t.Errorf("dumps recorded: %d (%v), want 2", len(dumps), err)
	}
	loads, err := store.DumpLoads(ctx, 0)
	if err != nil || len(loads) != 2 || loads[0].Kind != history.DumpIncremental || loads[0].Status != history.DumpSucceeded {
		t.Errorf("loads recorded: %+v (%v), want the increment on top", loads, err)
	}
}

// TestDumpSchedulerFailuresShow: a scheduled dump that fails before it is
// recorded anywhere (dump.yml unreadable), and then a scheduled load that
// fails, show in the status (a problem, the dump's or load's state
// failing, job_errors, 503), on the page and in metrics
// (metricgate_dump_tick_error), not only in a log line; a tick that
// succeeds clears its job's error.
func TestDumpSchedulerFailuresShow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(ctx, pgtest.Connect(t, src), gitlabfake.Options{}); err != nil {
		t.Fatal(err)
	}
	store, err := history.Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := &Config{Sources: map[string]SourceConfig{"main": {URL: Secret(src)}}}
	cfg.Dump.Config = filepath.Join(dir, "missing-dump.yml")
	cfg.Dump.StorageURL = "file://" + filepath.Join(dir, "dumps") + "?create_dir=true"
	cfg.Dump.PseudonymKey = "scheduler-test-pseudonym-key-0123"
	cfg.Dump.Schedule, cfg.Dump.Load = true, true
	cfg.API.AllowUnauthenticatedRuns = true
	cfg.withDefaults()
	wh, err := openWarehouse(ctx, "duckdb://"+filepath.Join(dir, "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	_ = wh.Close() // every load fails
	jobs := newDumpJobs(cfg)
	sched, err := catalog.ParseSchedule(cfg.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(cfg.apiConfig(), api.Deps{History: store, Runs: &lateRuns{schedule: sched}, Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		a.Invalidate()
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}

	ticks := make(chan time.Time)
	outcomes := make(chan dumpOutcome)
	s := &dumpScheduler{cfg: cfg, store: store, wh: wh.(dump.Warehouse), log: slog.New(slog.DiscardHandler), ticks: ticks,
		jobs: jobs, done: func(o dumpOutcome) { outcomes <- o }}
	stop := s.start(ctx)
	defer stop()
	if o := <-outcomes; o.Err == nil || o.Manifest != nil {
		t.Fatalf("a dump without its dump.yml: %+v", o)
	}
	code, body := get("/api/v1/status")
	var st api.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || !st.Failing || len(st.JobErrors) != 1 || st.JobErrors[0].Kind != "dump" ||
		st.JobErrors[0].Failures != 1 || !slices.ContainsFunc(st.Problems, func(p string) bool {
		return strings.HasPrefix(p, "dump gitlab-org is failing: the scheduled dump failed") && strings.Contains(p, "missing-dump.yml")
	}) {
		t.Errorf("status after a failed scheduled dump: %d %s", code, body)
	}
	if len(st.Dumps) != 1 || st.Dumps[0].Kind != "dump" || st.Dumps[0].State != "failing" {
		t.Errorf("dumps after a failed scheduled dump: %+v", st.Dumps)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`metricgate_dump_tick_error{kind="dump",name="gitlab-org"} 1`, `metricgate_dump_tick_error{kind="load",name="warehouse"} 0`,
		`metricgate_dump_failing{kind="dump",name="gitlab-org"} 1`, `metricgate_dump_tick_failures{kind="dump",name="gitlab-org"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, page := get("/"); code != http.StatusServiceUnavailable || !strings.Contains(page, "the scheduled dump failed") {
		t.Errorf("page after a failed scheduled dump: %d", code)
	}

	// The dump works again; the load into the closed warehouse fails.
	cfg.Dump.Config = filepath.Join("..", "dump.yml")
	ticks <- time.Now()
	if o := <-outcomes; o.Err == nil || o.Manifest == nil {
		t.Fatalf("a dump with a failing load: %+v", o)
	}
	_, body = get("/api/v1/status")
	st = api.Status{}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.JobErrors) != 1 || st.JobErrors[0].Kind != "load" || !slices.ContainsFunc(st.Problems, func(p string) bool {
		return strings.HasPrefix(p, "load warehouse is failing: the scheduled load failed")
	}) || slices.ContainsFunc(st.Problems, func(p string) bool { return strings.HasPrefix(p, "dump ") }) {
		t.Errorf("status after a failed scheduled load: %s", body)
	}
	_, metrics = get("/metrics")
	for _, want := range []string{`metricgate_dump_tick_error{kind="dump",name="gitlab-org"} 0`, `metricgate_dump_tick_error{kind="load",name="warehouse"} 1`,
		`metricgate_dump_failing{kind="load",name="warehouse"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
