package dump_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// TestFullEveryBySnapshot: the full_every rule compares the new dump's
// snapshot with the chain's full dump's, not with the wall clock: a
// source read as of a backup months old still gets increments, and the
// full dump comes once the snapshots are full_every apart. (Before, the
// wall clock made every dump of an old backup full.)
func TestFullEveryBySnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	def := repoDefinition(t)
	store := newStore(t)
	bucket := fileBucket(t, filepath.Join(t.TempDir(), "bucket"))
	var logs syncBuffer
	step := func(asOf string, want warehouse.DumpMode) *dump.Manifest {
		t.Helper()
		x := exporter(t, dsn, bucket, store, &logs, dump.Config{Keep: 20, FullEvery: 24 * time.Hour, AsOf: "'" + asOf + "'::timestamptz"})
		m, err := x.Dump(ctx, def)
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != want {
			t.Fatalf("dump as of %s is %s, want %s; log:\n%s", asOf, m.Kind, want, logs.String())
		}
		return m
	}
	full := step("2026-01-01 00:00:00+00", dump.KindFull)
	inc1 := step("2026-01-01 06:00:00+00", dump.KindIncremental)
	inc2 := step("2026-01-01 23:59:00+00", dump.KindIncremental)
	if inc1.Base != full.Location || inc2.Base != inc1.Location || !inc2.FullSnapshotTime.Equal(full.SnapshotTime) {
		t.Fatalf("chain: %s on %s, %s on %s (full snapshot %s), want on %s", inc1.Location, inc1.Base, inc2.Location, inc2.Base, inc2.FullSnapshotTime, full.Location)
	}
	full2 := step("2026-01-02 00:00:00+00", dump.KindFull) // 24h after the full dump's snapshot
	if full2.Base != "" || !full2.FullSnapshotTime.Equal(full2.SnapshotTime) {
		t.Errorf("the second full dump: base %q, full snapshot %s, want none and its own %s", full2.Base, full2.FullSnapshotTime, full2.SnapshotTime)
	}
	if !strings.Contains(logs.String(), "older than this one's (full_every 24h0m0s)") {
		t.Errorf("the log does not say why the dump is full:\n%s", logs.String())
	}
	dumps, err := store.Dumps(ctx, 0)
	if err != nil || len(dumps) != 4 || dumps[0].Location != full2.Location || dumps[0].Kind != history.DumpFull || dumps[0].Base != "" ||
		dumps[1].Kind != history.DumpIncremental || dumps[1].Base != inc1.Location {
		t.Errorf("history of dumps: %+v %v, want the newest full without a base, the one before incremental on %s", dumps, err, inc1.Location)
	}
}
