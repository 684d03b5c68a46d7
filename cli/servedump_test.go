package cli

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

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
