//go:build !no_duckdb

package runner_test

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/queries"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// TestEndToEnd runs every query of queries/ on generated GitLab data into
// DuckDB and into PostgreSQL, and compares every loaded table with what the
// same SQL returns when run directly on the source, minus the groups under
// min_group_size: equal, row for row.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cat, err := catalog.Load(queries.FS, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.catalog = shippedSchema()
	if _, err := gitlabfake.Load(ctx, e.source, gitlabfake.Options{Scale: 1}); err != nil {
		t.Fatal(err)
	}
	// What each query returns straight from the source, filtered by hand.
	want := map[string]*warehouse.Table{}
	for _, q := range cat.Queries {
		want[q.Name] = direct(t, e.source, q)
	}
	dw, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "e2e.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dw.Close() })
	for _, wh := range []struct {
		name string
		w    interface {
			runner.Writer
			Read(context.Context, string) (*warehouse.Table, error)
		}
	}{{"duckdb", dw}, {"postgres", e.wh}} {
		t.Run(wh.name, func(t *testing.T) {
			res, err := e.runner(runner.Config{}, wh.w, nil).Run(ctx, runner.Options{Queries: cat.Queries})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != history.RunSucceeded {
				t.Fatalf("run %s: %+v", res.Status, res.Queries)
			}
			for _, qr := range res.Queries {
				q, _ := cat.Lookup(qr.Query)
				got, err := wh.w.Read(ctx, q.Target)
				if err != nil {
					t.Fatalf("%s: %v", q.Name, err)
				}
				if int64(len(got.Rows)) != qr.RowsLoaded || qr.RowsLoaded != int64(len(want[q.Name].Rows)) {
					t.Errorf("%s: %d rows in the table, %d recorded, %d expected", q.Name, len(got.Rows), qr.RowsLoaded, len(want[q.Name].Rows))
				}
				if d := warehousetest.Diff(want[q.Name], warehousetest.Project(got, warehousetest.QueryColumns(got)...)); d != "" {
					t.Errorf("%s: the warehouse differs from the source:\n%s", q.Name, d)
				}
				checkProvenance(t, got, res.RunID, q.SHA256)
			}
		})
	}
}

func checkProvenance(t *testing.T, tb *warehouse.Table, runID int64, sha string) {
	t.Helper()
	p := warehousetest.Project(tb, "_snapshot_date", "_run_id", "_query_sha256", "_source")
	today := warehouse.Date(time.Now().UTC())
	for _, r := range p.Rows {
		if d, _ := r[0].(time.Time); !d.Equal(today) || r[1] != runID || r[2] != sha || r[3] != "main" {
			t.Errorf("provenance %v, want %s, run %d, %s, source main", r, today.Format(time.DateOnly), runID, sha)
			return
		}
	}
}

// direct runs the guard's rewrite of q on conn as a plain client would,
// keeps the rows the entity filter keeps (at least min_group_size people),
// and returns their visible columns with pgx's own decoding turned into the
// warehouse's Go types: what the runner must load, computed without it.
func direct(t *testing.T, conn *pgx.Conn, q *catalog.Query) *warehouse.Table {
	t.Helper()
	g, _ := guard.New(guard.Config{Schema: shippedSchema()})
	an, vs := g.CheckQuery(q)
	if len(vs) > 0 {
		t.Fatalf("%s: %v", q.Name, vs)
	}
	rows, err := conn.Query(t.Context(), an.SQL(q.MinGroupSize))
	if err != nil {
		t.Fatalf("%s: %v", q.Name, err)
	}
	defer rows.Close()
	tb := &warehouse.Table{}
	visible := len(an.Columns)
	for _, f := range rows.FieldDescriptions()[:visible] {
		dt, _ := conn.TypeMap().TypeForOID(f.DataTypeOID)
		tb.Columns = append(tb.Columns, warehouse.Column{Name: f.Name, Type: warehouse.FromPostgres(dt.Name, f.TypeModifier)})
	}
	filter := &guard.EntityFilter{Min: int64(q.MinGroupSize)}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		keep, err := filter.Keep(vals[visible:])
		if err != nil {
			t.Fatal(err)
		}
		if !keep {
			continue
		}
		row := make([]any, visible)
		for i, v := range vals[:visible] {
			row[i] = plain(t, v)
		}
		tb.Rows = append(tb.Rows, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q.Name, err)
	}
	return tb
}

// plain turns a value as pgx decodes it into the warehouse's Go type.
func plain(t *testing.T, v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC()
	case pgtype.Numeric:
		if !x.Valid {
			return nil
		}
		return warehouse.Decimal{Int: new(big.Int).Set(x.Int), Scale: -x.Exp}
	case pgtype.Interval:
		return warehouse.Interval{Months: x.Months, Days: x.Days, Microseconds: x.Microseconds}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(t, e)
		}
		return out
	}
	t.Fatalf("unexpected %T from pgx", v)
	return fmt.Sprint(v)
}
