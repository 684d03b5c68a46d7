package warehousetest

import (
	"context"
	"slices"
	"testing"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// DropColumnFunc drops column from table in the warehouse w writes to, to
// make a table as an older version of metricgate left it.
type DropColumnFunc func(ctx context.Context, table, column string) error

// ExerciseSourceUpgrade checks that a table loaded before the _source
// provenance column existed upgrades without duplicates: the first load
// of a source adds the column, the old rows (NULL there) of the date it
// loads (append) or of the table (replace) are replaced, a second source
// and a rerun add their rows once, and old rows of other dates stay.
// drop removes a column with the driver's own SQL.
func ExerciseSourceUpgrade(ctx context.Context, t *testing.T, w Writer, drop DropColumnFunc) {
	t.Helper()
	s := &suite{ctx: ctx}
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "upgrade_" + string(mode)
		load := func(day, run int, source string) warehouse.Load {
			return warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: ProvFrom(Day(day), int64(run), source)}
		}
		// As an older version loaded it: one source, no _source column.
		s.write(t, w, load(0, 1, "main"), []any{"a", int64(1)}, []any{"b", int64(2)})
		if mode == warehouse.Append {
			s.write(t, w, load(1, 2, "main"), []any{"c", int64(3)})
		}
		if err := drop(ctx, table, "_source"); err != nil {
			t.Fatalf("drop _source of %s: %v", table, err)
		}
		if got := s.read(t, w, table); slices.Contains(columnNames(got), "_source") {
			t.Fatalf("%s still has _source after drop", table)
		}
		var older *warehouse.Table // rows of day 1 (append), as the upgraded table holds them
		if mode == warehouse.Append {
			older = Expect(load(1, 2, ""), []any{"c", int64(3)})
		} else {
			older = &warehouse.Table{Columns: load(0, 0, "").AllColumns()}
		}

		// The upgrade: two sources load day 0, the first one twice.
		s.write(t, w, load(0, 3, "main"), []any{"a", int64(10)}, []any{"b", int64(20)})
		s.write(t, w, load(0, 3, "main"), []any{"a", int64(10)}, []any{"b", int64(20)})
		s.write(t, w, load(0, 3, "main_eu"), []any{"a", int64(5)})
		main := Expect(load(0, 3, "main"), []any{"a", int64(10)}, []any{"b", int64(20)})
		eu := Expect(load(0, 3, "main_eu"), []any{"a", int64(5)})
		got := s.expectTable(t, w, table, Widen(main, eu, older))
		if i := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "_source" }); i != len(got.Columns)-1 {
			t.Errorf("%s: _source is column %d of %v, want the last (added by the upgrade)", table, i, columnNames(got))
		}
	}
}
