//go:build !no_duckdb

package duckdb

import (
	"path/filepath"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// TestLoadDumpRestoresSettings checks that the settings a load lowers
// (threads, the allocator's flush threshold, memory_limit) are back to
// what they were once it returns.
func TestLoadDumpRestoresSettings(t *testing.T) {
	ctx := t.Context()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close() }()
	names := []string{"threads", "allocator_flush_threshold", "memory_limit"}
	read := func() []string {
		vals := make([]string, len(names))
		for i, n := range names {
			if err := w.db.QueryRowContext(ctx, "SELECT current_setting("+literal(n)+")::VARCHAR").Scan(&vals[i]); err != nil {
				t.Fatal(err)
			}
		}
		return vals
	}
	before := read()
	if err := w.LoadDump(ctx, "dumped", nil, warehouse.LedgerEntry{Location: "dumps/x/", Kind: warehouse.DumpFull, LoadedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	after := read()
	for i, n := range names {
		if before[i] != after[i] {
			t.Errorf("%s after a load: %s, want %s", n, after[i], before[i])
		}
	}
}

func TestLedger(t *testing.T) {
	t.Parallel()
	warehousetest.ExerciseLedger(t.Context(), t, func(t *testing.T) warehousetest.DumpWarehouse {
		w, err := Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		return w
	})
}

// TestDump runs the dump suite: LoadDump and ApplyIncrement on real files.
func TestDump(t *testing.T) {
	t.Parallel()
	warehousetest.ExerciseDump(t.Context(), t, func(t *testing.T) (warehousetest.DumpWarehouse, warehousetest.QueryFunc) {
		w, err := Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		return w, warehousetest.QueryDB(w.db)
	})
}
