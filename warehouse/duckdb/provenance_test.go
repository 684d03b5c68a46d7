//go:build !no_duckdb

package duckdb

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// TestMRIIDAddedToOldTable: a table created before the _mr_iid provenance
// column existed gets it added by the next load; its older rows read NULL.
func TestMRIIDAddedToOldTable(t *testing.T) {
	ctx := t.Context()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	load := warehouse.Load{Table: "old", Mode: warehouse.Append,
		Columns: []warehouse.Column{{Name: "n", Type: warehouse.Type{Kind: warehouse.KindInt}}},
		Provenance: warehouse.Provenance{SnapshotDate: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), RunID: 1,
			QuerySHA256: "abc", Commit: "c1", LoadedAt: time.Date(2025, 3, 1, 4, 0, 0, 0, time.UTC)}}
	if _, err := w.Write(ctx, load, warehouse.SliceRows([][]any{{int64(1)}})); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.ExecContext(ctx, `ALTER TABLE old DROP COLUMN _mr_iid`); err != nil {
		t.Fatal(err)
	}
	load.Provenance.SnapshotDate, load.Provenance.RunID, load.Provenance.MRIID = load.Provenance.SnapshotDate.AddDate(0, 0, 1), 2, 12
	if _, err := w.Write(ctx, load, warehouse.SliceRows([][]any{{int64(2)}})); err != nil {
		t.Fatal(err)
	}
	got, err := w.Read(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "_mr_iid" })
	if i < 0 {
		t.Fatalf("columns %v: no _mr_iid", got.Columns)
	}
	if got.Columns[i].Type.Kind != warehouse.KindInt {
		t.Errorf("_mr_iid is %v, want bigint", got.Columns[i].Type)
	}
	byRun := map[int64]any{}
	for _, r := range got.Rows {
		byRun[r[slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "_run_id" })].(int64)] = r[i]
	}
	if len(byRun) != 2 || byRun[1] != nil || byRun[2] != int64(12) {
		t.Errorf("_mr_iid by run: %v, want run 1 NULL, run 2 12", byRun)
	}
}

// TestSourceAddedToOldTable: a table loaded before the _source provenance
// column existed gets it, and its rows are replaced, not duplicated, by
// the loads of several sources (see warehousetest.ExerciseSourceUpgrade).
func TestSourceAddedToOldTable(t *testing.T) {
	ctx := t.Context()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	warehousetest.ExerciseSourceUpgrade(ctx, t, w, func(ctx context.Context, table, column string) error {
		_, err := w.db.ExecContext(ctx, "ALTER TABLE "+ident(table)+" DROP COLUMN "+ident(column))
		return err
	})
}
