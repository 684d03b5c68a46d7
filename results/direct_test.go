//go:build !no_duckdb

package results_test

import (
	"errors"
	"math"
	"testing"

	"gitlab.com/metricgate/metricgate/results"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// TestSameAsDirect loads the same results into two warehouses of a kind,
// one directly and one through storage and the loader, step by step
// (append, a rerun of a day, another source, replace per source, an added
// column, an incompatible change), and after every step the two tables
// are equal, provenance included.
func TestSameAsDirect(t *testing.T) {
	cols := []warehouse.Column{
		warehousetest.Col("k", warehouse.KindText), warehousetest.Col("n", warehouse.KindInt),
		{Name: "amount", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}},
		warehousetest.Col("ratio", warehouse.KindFloat), warehousetest.Col("ok", warehouse.KindBool),
		warehousetest.Col("day", warehouse.KindDate), warehousetest.Col("at", warehouse.KindTimestampTZ),
		warehousetest.Col("wall", warehouse.KindTimestamp), warehousetest.Col("took", warehouse.KindInterval),
		warehousetest.Col("doc", warehouse.KindJSON),
		{Name: "ids", Type: warehouse.Type{Kind: warehouse.KindInt, Array: true}},
		{Name: "tags", Type: warehouse.Type{Kind: warehouse.KindText, Array: true}},
	}
	rows := func(n, from int) [][]any {
		var out [][]any
		for i := from; i < from+n; i++ {
			r := make([]any, len(cols))
			for c, col := range cols {
				r[c] = warehousetest.GenValue(col.Type, i)
			}
			out = append(out, r)
		}
		odd := make([]any, len(cols)) // NULL everywhere but: the empty string, a quote, a newline, an empty array
		odd[0], odd[3], odd[9], odd[11] = "", math.Inf(1), `{"s": "a \"b\"\nc"}`, []any{}
		return append(out, odd, make([]any, len(cols)))
	}
	step := func(table string, mode warehouse.Mode, day int, run int64, source string, c []warehouse.Column, r [][]any) (warehouse.Load, [][]any) {
		return warehouse.Load{Table: table, Mode: mode, Columns: c, Provenance: warehousetest.ProvFrom(warehousetest.Day(day), run, source)}, r
	}
	withAdded := append(append([]warehouse.Column(nil), cols...), warehousetest.Col("added", warehouse.KindBool))
	addedRows := rows(4, 100)
	for i := range addedRows {
		addedRows[i] = append(addedRows[i], i%2 == 0)
	}
	type load struct {
		l    warehouse.Load
		rows [][]any
	}
	var steps []load
	for _, s := range []func() (warehouse.Load, [][]any){
		func() (warehouse.Load, [][]any) { return step("s", warehouse.Append, 0, 1, "main", cols, rows(50, 0)) },
		func() (warehouse.Load, [][]any) { return step("s", warehouse.Append, 0, 2, "main", cols, rows(30, 50)) },
		func() (warehouse.Load, [][]any) { return step("s", warehouse.Append, 1, 3, "ci", cols, rows(10, 80)) },
		func() (warehouse.Load, [][]any) { return step("r", warehouse.Replace, 0, 1, "main", cols, rows(20, 0)) },
		func() (warehouse.Load, [][]any) { return step("r", warehouse.Replace, 1, 2, "main", cols, rows(5, 20)) },
		func() (warehouse.Load, [][]any) { return step("r", warehouse.Replace, 1, 2, "ci", cols, rows(7, 30)) },
		func() (warehouse.Load, [][]any) {
			return step("s", warehouse.Append, 2, 4, "main", withAdded, addedRows)
		},
		func() (warehouse.Load, [][]any) { return step("r", warehouse.Replace, 2, 4, "", withAdded, addedRows) },
	} {
		l, r := s()
		steps = append(steps, load{l, r})
	}
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			direct, viaStorage := open(t), open(t)
			defer func() { _ = direct.Close(); _ = viaStorage.Close() }()
			b, _ := fileBucket(t)
			w := results.NewWriter(results.Config{}, b)
			loader := results.NewLoader(results.Config{}, b, viaStorage, nil)
			compare := func(what string) {
				t.Helper()
				for _, table := range []string{"s", "r"} {
					want, werr := direct.Read(ctx, table)
					got, gerr := viaStorage.Read(ctx, table)
					if werr != nil || gerr != nil {
						if (werr == nil) != (gerr == nil) {
							t.Fatalf("%s: %s: read directly: %v; through storage: %v", what, table, werr, gerr)
						}
						continue
					}
					if d := warehousetest.Diff(want, got); d != "" {
						t.Fatalf("%s: table %s through storage differs from the direct one:\n%s", what, table, d)
					}
				}
			}
			for i, s := range steps {
				if _, err := direct.Write(ctx, s.l, warehouse.SliceRows(s.rows)); err != nil {
					t.Fatalf("step %d directly: %v", i, err)
				}
				if _, err := w.Write(ctx, s.l, warehouse.SliceRows(s.rows)); err != nil {
					t.Fatalf("step %d to storage: %v", i, err)
				}
				if res, err := loader.Load(ctx); err != nil || len(res.Loaded) != 1 {
					t.Fatalf("step %d: load: %d results, %v", i, len(res.Loaded), err)
				}
				compare(s.l.Table + " " + string(s.l.Mode) + " " + s.l.Provenance.Source)
			}
			// An incompatible change fails both ways, and both tables stay.
			bad := []warehouse.Column{warehousetest.Col("k", warehouse.KindText), warehousetest.Col("n", warehouse.KindText)}
			l := warehouse.Load{Table: "s", Mode: warehouse.Append, Columns: bad, Provenance: warehousetest.Prov(warehousetest.Day(3), 5)}
			_, derr := direct.Write(ctx, l, warehouse.SliceRows([][]any{{"x", "y"}}))
			if _, err := w.Write(ctx, l, warehouse.SliceRows([][]any{{"x", "y"}})); err != nil {
				t.Fatal(err)
			}
			_, serr := loader.Load(ctx)
			var die, sie *warehouse.IncompatibleError
			if !errors.As(derr, &die) || !errors.As(serr, &sie) {
				t.Errorf("incompatible change: directly %v; through storage %v; want an IncompatibleError both ways", derr, serr)
			}
			compare("after an incompatible change")
		})
	}
}
