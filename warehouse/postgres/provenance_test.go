package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// TestMRIIDAddedToOldTable: a table created before the _mr_iid provenance
// column existed gets it added by the next load; its older rows read NULL.
func TestMRIIDAddedToOldTable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.New(t)
	w := open(t, dsn)
	l := load("old", warehouse.Append, 1, col("n", warehouse.KindInt))
	if _, err := w.Write(ctx, l, warehouse.SliceRows([][]any{{int64(1)}})); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `ALTER TABLE old DROP COLUMN _mr_iid`); err != nil {
		t.Fatal(err)
	}
	l2 := load("old", warehouse.Append, 2, col("n", warehouse.KindInt))
	l2.Provenance.MRIID = 12
	if _, err := w.Write(ctx, l2, warehouse.SliceRows([][]any{{int64(2)}})); err != nil {
		t.Fatal(err)
	}
	got, err := w.Read(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "_mr_iid" })
	run := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "_run_id" })
	if i < 0 || run < 0 {
		t.Fatalf("columns %v: no _mr_iid or _run_id", got.Columns)
	}
	if got.Columns[i].Type.Kind != warehouse.KindInt {
		t.Errorf("_mr_iid is %v, want bigint", got.Columns[i].Type)
	}
	byRun := map[int64]any{}
	for _, r := range got.Rows {
		byRun[r[run].(int64)] = r[i]
	}
	if len(byRun) != 2 || byRun[1] != nil || byRun[2] != int64(12) {
		t.Errorf("_mr_iid by run: %v, want run 1 NULL, run 2 12", byRun)
	}
}

// TestSourceAddedToOldTable: a table loaded before the _source provenance
// column existed gets it, and its rows are replaced, not duplicated, by
// the loads of several sources (see warehousetest.ExerciseSourceUpgrade).
func TestSourceAddedToOldTable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.New(t)
	w := open(t, dsn)
	conn := pgtest.Connect(t, dsn)
	warehousetest.ExerciseSourceUpgrade(ctx, t, w, func(ctx context.Context, table, column string) error {
		_, err := conn.Exec(ctx, "ALTER TABLE "+pgx.Identifier{table}.Sanitize()+" DROP COLUMN "+pgx.Identifier{column}.Sanitize())
		return err
	})
}
