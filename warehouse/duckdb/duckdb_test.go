//go:build !no_duckdb

package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

var _ interface {
	Write(context.Context, warehouse.Load, warehouse.Rows) (int64, error)
} = (*Writer)(nil)

var _ warehousetest.Writer = (*Writer)(nil)

func openWriter(ctx context.Context, dsn string) (warehousetest.Writer, error) {
	return OpenURL(ctx, dsn)
}

func TestMain(m *testing.M) {
	warehousetest.RunCrashChild(openWriter)
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	warehousetest.Exercise(t.Context(), t, func(t *testing.T) warehousetest.Writer {
		w, err := Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
}

func TestCrash(t *testing.T) {
	warehousetest.ExerciseCrash(t, openWriter, "duckdb://"+filepath.Join(t.TempDir(), "crash.duckdb"))
}

func TestPathFromURL(t *testing.T) {
	for _, tc := range []struct{ url, path, err string }{
		{url: "duckdb:///var/lib/metricgate/w.duckdb", path: "/var/lib/metricgate/w.duckdb"},
		{url: "duckdb://data/w.duckdb", path: "data/w.duckdb"},
		{url: "duckdb://w.duckdb", path: "w.duckdb"},
		{url: "postgres://localhost/w", err: "not a duckdb:// URL"},
		{url: "duckdb:/w.duckdb", err: "not a duckdb:// URL"},
		{url: "duckdb://", err: "no file path"},
		{url: "duckdb:///", err: "no file path"},
		{url: "duckdb:///tmp/", err: "names a directory"},
		{url: "duckdb:///tmp/w.duckdb?threads=4", err: "query parameters"},
	} {
		got, err := PathFromURL(tc.url)
		switch {
		case tc.err == "" && (err != nil || got != tc.path):
			t.Errorf("PathFromURL(%q) = %q, %v; want %q", tc.url, got, err, tc.path)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("PathFromURL(%q) error %v, want one containing %q", tc.url, err, tc.err)
		}
	}
}

func TestOpenURLAndTables(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	t.Chdir(dir)
	w, err := OpenURL(ctx, "duckdb://sub/w.duckdb") // relative, directory created
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := os.Stat(filepath.Join(dir, "sub", "w.duckdb")); err != nil {
		t.Errorf("OpenURL did not create the file: %v", err)
	}
	cols := []warehouse.Column{warehousetest.Col("k", warehouse.KindText)}
	for i, table := range []string{"b_table", "a_table"} {
		l := warehouse.Load{Table: table, Mode: warehouse.Replace, Columns: cols, Provenance: warehousetest.Prov(warehousetest.Day(0), 1)}
		if _, err := w.Write(ctx, l, warehousetest.GenRows(cols, i+2)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []TableInfo{{"a_table", 3}, {"b_table", 2}}
	if !slices.Equal(got, want) {
		t.Errorf("Tables = %v, want %v (no staging tables)", got, want)
	}
}

// TestTypeMapping pins the DuckDB type of every kind to the table in the
// warehouse package documentation.
func TestTypeMapping(t *testing.T) {
	ctx := t.Context()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	num := func(p, s int) warehouse.Type {
		return warehouse.Type{Kind: warehouse.KindNumeric, Precision: p, Scale: s}
	}
	cases := []struct {
		typ  warehouse.Type
		duck string
	}{
		{warehouse.Type{Kind: warehouse.KindInt}, "BIGINT"},
		{num(12, 2), "DECIMAL(12,2)"},
		{num(38, 0), "DECIMAL(38,0)"},
		{num(39, 2), "DOUBLE"},
		{num(0, 0), "DOUBLE"},
		{warehouse.Type{Kind: warehouse.KindFloat}, "DOUBLE"},
		{warehouse.Type{Kind: warehouse.KindText}, "VARCHAR"},
		{warehouse.Type{Kind: warehouse.KindBool}, "BOOLEAN"},
		{warehouse.Type{Kind: warehouse.KindDate}, "DATE"},
		{warehouse.Type{Kind: warehouse.KindTimestamp}, "TIMESTAMP"},
		{warehouse.Type{Kind: warehouse.KindTimestampTZ}, "TIMESTAMP WITH TIME ZONE"},
		{warehouse.Type{Kind: warehouse.KindInterval}, "INTERVAL"},
		{warehouse.Type{Kind: warehouse.KindJSON}, "JSON"},
		{warehouse.Type{Kind: warehouse.KindInt, Array: true}, "BIGINT[]"},
		{warehouse.Type{Kind: warehouse.KindText, Array: true}, "VARCHAR[]"},
		{warehouse.Type{Kind: warehouse.KindJSON, Array: true}, "JSON[]"},
	}
	load := warehouse.Load{Table: "mapping", Mode: warehouse.Append, Provenance: warehousetest.Prov(warehousetest.Day(0), 1)}
	for i, c := range cases {
		load.Columns = append(load.Columns, warehouse.Column{Name: fmt.Sprintf("c%d", i), Type: c.typ})
	}
	if _, err := w.Write(ctx, load, warehousetest.GenRows(load.Columns, 3)); err != nil {
		t.Fatal(err)
	}
	cols, err := tableColumns(ctx, w.db, "mapping")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if cols[i].typ != c.duck {
			t.Errorf("%v: DuckDB type %s, want %s", c.typ, cols[i].typ, c.duck)
		}
	}
	for i, p := range warehouse.ProvenanceColumns {
		if got := cols[len(cases)+i]; got.name != p.Name || got.typ != sqlType(p.Type) {
			t.Errorf("provenance column %d: %s %s, want %s %s", i, got.name, got.typ, p.Name, sqlType(p.Type))
		}
	}
}

// BenchmarkWrite measures a load of 1M rows of 3 columns (int, text,
// float) into a new table.
func BenchmarkWrite(b *testing.B) {
	const n = 1_000_000
	ctx := b.Context()
	w, err := Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	cols := []warehouse.Column{warehousetest.Col("id", warehouse.KindInt), warehousetest.Col("name", warehouse.KindText), warehousetest.Col("x", warehouse.KindFloat)}
	b.ResetTimer()
	for i := range b.N {
		l := warehouse.Load{Table: "bench", Mode: warehouse.Append, Columns: cols, Provenance: warehousetest.Prov(warehousetest.Day(i), 1)}
		if _, err := w.Write(ctx, l, warehousetest.GenRows(cols, n)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestWideLoadsUnderTheMemoryLimit: the memory limit grows with the
// columns of the loads in flight, so wide tables (which need blocks per
// column) load, two at a time, and the limit is DuckDB's default again
// afterwards.
func TestWideLoadsUnderTheMemoryLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "wide.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close() }()
	var before string
	if err := w.db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&before); err != nil {
		t.Fatal(err)
	}
	const width, rows = 150, 20000
	errs := make(chan error, 2)
	for l := range 2 {
		go func() {
			cols := make([]warehouse.Column, width)
			for i := range cols {
				cols[i] = warehouse.Column{Name: fmt.Sprintf("c%03d", i), Type: warehouse.Type{Kind: warehouse.KindText}}
			}
			data := make([][]any, rows)
			for r := range data {
				data[r] = make([]any, width)
				for i := range data[r] {
					data[r][i] = strings.Repeat("x", 20) + fmt.Sprint(r*i)
				}
			}
			load := warehouse.Load{Table: fmt.Sprintf("wide_%d", l), Mode: warehouse.Replace, Columns: cols,
				Provenance: warehousetest.Prov(warehousetest.Day(1), 1)}
			n, err := w.Write(ctx, load, warehouse.SliceRows(data))
			if err == nil && n != rows {
				err = fmt.Errorf("wrote %d rows, want %d", n, rows)
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("wide load: %v", err)
		}
	}
	var after string
	if err := w.db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("memory_limit after the loads is %s, before %s", after, before)
	}
}
