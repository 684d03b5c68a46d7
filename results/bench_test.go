//go:build !no_duckdb

package results_test

import (
	"path/filepath"
	"testing"

	"gitlab.com/metricgate/metricgate/results"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// BenchmarkRoundTrip compares a direct load of 1M rows (5 columns) into
// DuckDB with the storage road: Writer to file:// storage, then Loader
// into DuckDB. It reports the compressed bytes per row in storage.
func BenchmarkRoundTrip(b *testing.B) {
	const rows = 1_000_000
	cols := []warehouse.Column{warehousetest.Col("k", warehouse.KindText), warehousetest.Col("n", warehouse.KindInt),
		warehousetest.Col("x", warehouse.KindFloat), warehousetest.Col("d", warehouse.KindDate), warehousetest.Col("b", warehouse.KindBool)}
	load := func(i int) warehouse.Load {
		return warehouse.Load{Table: "bench", Mode: warehouse.Append, Columns: cols, Provenance: warehousetest.Prov(warehousetest.Day(i), int64(i+1))}
	}
	open := func(b *testing.B) *duckdb.Writer {
		w, err := duckdb.Open(b.Context(), filepath.Join(b.TempDir(), "w.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = w.Close() })
		return w
	}
	b.Run("direct", func(b *testing.B) {
		wh := open(b)
		i := 0
		for b.Loop() {
			if _, err := wh.Write(b.Context(), load(i), warehousetest.GenRows(cols, rows)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(rows*i)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("storage", func(b *testing.B) {
		wh := open(b)
		bucket, _ := fileBucket(b)
		w := results.NewWriter(results.Config{}, bucket)
		l := results.NewLoader(results.Config{}, bucket, wh, nil)
		i := 0
		var size int64
		for b.Loop() {
			if _, err := w.Write(b.Context(), load(i), warehousetest.GenRows(cols, rows)); err != nil {
				b.Fatal(err)
			}
			res, err := l.Load(b.Context())
			if err != nil || len(res.Loaded) != 1 {
				b.Fatalf("load: %v", err)
			}
			size = res.Loaded[0].File.Bytes
			i++
		}
		b.ReportMetric(float64(rows*i)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(size)/rows, "bytes/row")
	})
}
