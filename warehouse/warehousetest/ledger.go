package warehousetest

import (
	"context"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// DumpWarehouse is what the dump suites drive: the loader's view of a
// warehouse (dump.Warehouse).
type DumpWarehouse interface {
	LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error
	ApplyIncrement(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error
	Ledger(ctx context.Context, schema string) ([]warehouse.LedgerEntry, error)
}

// ExerciseLedger checks a dump warehouse's ledger (warehouse.LedgerTable): a
// new schema has none; LoadDump and ApplyIncrement add their entry,
// numbered in order, with every field kept; a load or an increment that
// fails adds nothing (the entry and the tables are one transaction); a
// full dump does not drop the ledger as a table it does not list; each
// schema has its own. newWarehouse returns a fresh warehouse.
func ExerciseLedger(ctx context.Context, t *testing.T, newWarehouse func(t *testing.T) DumpWarehouse) {
	t.Helper()
	w := newWarehouse(t)
	const schema = "ledger_dump"
	at := func(min int) time.Time { return time.Date(2026, 3, 4, 5, min, 6, 789000, time.UTC) }
	entry := func(loc string, kind warehouse.DumpMode, base string, min int) warehouse.LedgerEntry {
		return warehouse.LedgerEntry{Location: loc, Kind: kind, Base: base, SnapshotTime: at(min), Tables: 1, Rows: int64(min),
			LoadedAt: at(min + 1), Tool: "metricgate test"}
	}
	table := warehouse.DumpTable{Name: "issues", Mode: warehouse.DumpFull, Columns: []warehouse.Column{{Name: "id", Type: warehouse.Type{Kind: warehouse.KindInt}}}}
	wrong := table
	wrong.Rows = 1 // no file holds it: the count check fails, inside the transaction

	check := func(step string, want ...warehouse.LedgerEntry) {
		t.Helper()
		got, err := w.Ledger(ctx, schema)
		if err != nil {
			t.Fatalf("%s: ledger: %v", step, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: ledger has %d entries %+v, want %d", step, len(got), got, len(want))
		}
		for i, g := range got {
			x := want[i]
			if g.Seq != int64(i+1) || g.Location != x.Location || g.Kind != x.Kind || g.Base != x.Base || !g.SnapshotTime.Equal(x.SnapshotTime) ||
				g.Tables != x.Tables || g.Rows != x.Rows || !g.LoadedAt.Equal(x.LoadedAt) || g.Tool != x.Tool {
				t.Errorf("%s: entry %d is %+v, want %+v with seq %d", step, i, g, x, i+1)
			}
		}
		if held := got[len(got)-1].Location; held != want[len(want)-1].Location {
			t.Errorf("%s: held %q", step, held)
		}
	}

	if got, err := w.Ledger(ctx, schema); err != nil || len(got) != 0 {
		t.Fatalf("ledger of a new warehouse: %+v, %v; want none and no error", got, err)
	}
	full := entry("dumps/2026-03-04/a/", warehouse.DumpFull, "", 1)
	if err := w.LoadDump(ctx, schema, []warehouse.DumpTable{table}, full); err != nil {
		t.Fatalf("load dump: %v", err)
	}
	check("after a full dump", full)
	if err := w.LoadDump(ctx, schema, []warehouse.DumpTable{wrong}, entry("dumps/2026-03-04/bad/", warehouse.DumpFull, "", 2)); err == nil {
		t.Fatal("a dump whose row count is wrong loaded")
	}
	check("after a full dump that failed", full)
	inc := entry("dumps/2026-03-04/b/", warehouse.DumpIncremental, full.Location, 3)
	if err := w.ApplyIncrement(ctx, schema, []warehouse.DumpTable{table}, inc); err != nil {
		t.Fatalf("apply increment: %v", err)
	}
	check("after an increment", full, inc)
	if err := w.ApplyIncrement(ctx, schema, []warehouse.DumpTable{wrong}, entry("dumps/2026-03-04/bad2/", warehouse.DumpIncremental, inc.Location, 4)); err == nil {
		t.Fatal("an increment whose row count is wrong applied")
	}
	check("after an increment that failed", full, inc)
	again := entry("dumps/2026-03-05/c/", warehouse.DumpFull, "", 5)
	if err := w.LoadDump(ctx, schema, []warehouse.DumpTable{table}, again); err != nil {
		t.Fatalf("load dump again: %v", err)
	}
	check("after a second full dump", full, inc, again)
	if got, err := w.Ledger(ctx, "ledger_other"); err != nil || len(got) != 0 {
		t.Errorf("ledger of another schema: %+v, %v; want none", got, err)
	}
}
