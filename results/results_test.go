//go:build !no_duckdb

package results_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/results"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// target is a warehouse the loader loads into and the tests read.
type target interface {
	results.Warehouse
	Read(ctx context.Context, table string) (*warehouse.Table, error)
	Close() error
}

func openDuckDB(t *testing.T) target {
	t.Helper()
	w, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func openPostgres(t *testing.T) target {
	t.Helper()
	w, err := postgres.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var targets = map[string]func(t *testing.T) target{"duckdb": openDuckDB, "postgres": openPostgres}

// fileBucket opens a fresh file:// storage through its URL, as
// results.storage_url names it.
func fileBucket(t testing.TB) (*blob.Bucket, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := results.OpenBucket(t.Context(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, dir
}

// roundTrip is a warehousetest.Writer whose Write goes the whole road:
// the results Writer into storage, then the Loader from storage into the
// warehouse. A write whose load is refused is removed from storage, as a
// direct write that fails leaves nothing.
type roundTrip struct {
	w      *results.Writer
	l      *results.Loader
	wh     target
	bucket *blob.Bucket
	mu     sync.Mutex // one loader at a time, as one metricgate load
}

func newRoundTrip(t *testing.T, wh target) *roundTrip {
	t.Helper()
	b, _ := fileBucket(t)
	return &roundTrip{w: results.NewWriter(results.Config{}, b), l: results.NewLoader(results.Config{}, b, wh, nil), wh: wh, bucket: b}
}

func (r *roundTrip) Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	n, err := r.w.Write(ctx, load, rows)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.l.Load(ctx); err != nil {
		loc := results.Location(results.DefaultPrefix, load)
		for _, f := range []string{results.ManifestName, results.DataName} {
			_ = r.bucket.Delete(context.WithoutCancel(ctx), loc+f)
		}
		return 0, err
	}
	return n, nil
}

func (r *roundTrip) Read(ctx context.Context, table string) (*warehouse.Table, error) {
	return r.wh.Read(ctx, table)
}

func (r *roundTrip) Close() error { return r.wh.Close() }

// TestConformance runs the warehouse conformance suite on the storage
// road: every load goes to file:// storage and is loaded from there into
// DuckDB and PostgreSQL, and must behave as a direct load.
func TestConformance(t *testing.T) {
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			warehousetest.Exercise(t.Context(), t, func(t *testing.T) warehousetest.Writer {
				return newRoundTrip(t, open(t))
			})
		})
	}
}
