//go:build !no_duckdb

package results_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"gitlab.com/metricgate/metricgate/results"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

var kv = []warehouse.Column{warehousetest.Col("k", warehouse.KindText), warehousetest.Col("v", warehouse.KindInt)}

func seriesLoad(day int, run int64) warehouse.Load {
	return warehouse.Load{Table: "series", Mode: warehouse.Append, Columns: kv, Provenance: warehousetest.Prov(warehousetest.Day(day), run)}
}

func latestLoad(day int, run int64) warehouse.Load {
	return warehouse.Load{Table: "latest", Mode: warehouse.Replace, Columns: kv, Provenance: warehousetest.Prov(warehousetest.Day(day), run)}
}

func write(t *testing.T, w *results.Writer, load warehouse.Load, rows ...[]any) {
	t.Helper()
	n, err := w.Write(t.Context(), load, warehouse.SliceRows(rows))
	if err != nil {
		t.Fatalf("write %s: %v", load.Table, err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("write %s: %d rows, want %d", load.Table, n, len(rows))
	}
}

func read(t *testing.T, wh target, table string) *warehouse.Table {
	t.Helper()
	got, err := wh.Read(context.WithoutCancel(t.Context()), table)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return got
}

// TestLoadOnce: a second load loads nothing, the ledger records each
// result once, and a new warehouse gets every result in storage.
func TestLoadOnce(t *testing.T) {
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b, _ := fileBucket(t)
			w := results.NewWriter(results.Config{}, b)
			write(t, w, seriesLoad(0, 1), []any{"a", int64(1)})
			write(t, w, latestLoad(0, 1), []any{"a", int64(1)}, []any{"b", int64(2)})
			write(t, w, seriesLoad(1, 2), []any{"a", int64(3)})
			write(t, w, latestLoad(1, 2), []any{"c", int64(4)})

			wh := open(t)
			defer func() { _ = wh.Close() }()
			l := results.NewLoader(results.Config{Tool: "metricgate test"}, b, wh, nil)
			res, err := l.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Loaded) != 4 || res.Rows != 5 || res.Held != 0 {
				t.Fatalf("first load: %d results, %d rows, %d held; want 4, 5, 0", len(res.Loaded), res.Rows, res.Held)
			}
			series := warehousetest.Expect(seriesLoad(0, 1), []any{"a", int64(1)})
			series.Rows = append(series.Rows, warehousetest.Expect(seriesLoad(1, 2), []any{"a", int64(3)}).Rows...)
			latest := warehousetest.Expect(latestLoad(1, 2), []any{"c", int64(4)})
			warehousetest.Equal(t, series, read(t, wh, "series"))
			warehousetest.Equal(t, latest, read(t, wh, "latest"))

			res, err = l.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Loaded) != 0 || res.Held != 4 {
				t.Errorf("second load: %d results loaded, %d held; want 0 and 4", len(res.Loaded), res.Held)
			}
			warehousetest.Equal(t, series, read(t, wh, "series"))
			warehousetest.Equal(t, latest, read(t, wh, "latest"))
			ledger, err := wh.Ledger(ctx, "metricgate_results")
			if err != nil {
				t.Fatal(err)
			}
			if len(ledger) != 4 {
				t.Fatalf("ledger has %d entries, want 4: %+v", len(ledger), ledger)
			}
			for _, e := range ledger {
				if e.Kind != results.KindResult || e.Tables != 1 || e.Tool != "metricgate test" || !strings.HasPrefix(e.Location, "results/2024-05-0") {
					t.Errorf("ledger entry %+v", e)
				}
			}

			// A new warehouse (the old one lost) gets everything.
			fresh := open(t)
			defer func() { _ = fresh.Close() }()
			res, err = results.NewLoader(results.Config{}, b, fresh, nil).Load(ctx)
			if err != nil || len(res.Loaded) != 4 {
				t.Fatalf("load into a new warehouse: %d results, %v; want 4", len(res.Loaded), err)
			}
			warehousetest.Equal(t, series, read(t, fresh, "series"))
			warehousetest.Equal(t, latest, read(t, fresh, "latest"))
		})
	}
}

// TestRefused: a result whose file is corrupt, truncated or missing is
// refused with an error naming the file, its table keeps what it had,
// storage keeps everything, the other results load; one without a
// manifest is incomplete and not loaded; once repaired, it loads.
func TestRefused(t *testing.T) {
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b, dir := fileBucket(t)
			w := results.NewWriter(results.Config{}, b)
			wh := open(t)
			defer func() { _ = wh.Close() }()
			l := results.NewLoader(results.Config{}, b, wh, nil)
			write(t, w, latestLoad(0, 1), []any{"old", int64(1)})
			write(t, w, seriesLoad(0, 1), []any{"old", int64(1)})
			if _, err := l.Load(ctx); err != nil {
				t.Fatal(err)
			}
			wantLatest, wantSeries := read(t, wh, "latest"), read(t, wh, "series")

			// Day 1: latest's file is corrupted (same size, one byte
			// changed); series' manifest is missing (killed before it);
			// a third result is good.
			write(t, w, latestLoad(1, 2), []any{"new", int64(2)})
			write(t, w, seriesLoad(1, 2), []any{"new", int64(2)})
			good := warehouse.Load{Table: "other", Mode: warehouse.Append, Columns: kv, Provenance: warehousetest.Prov(warehousetest.Day(1), 2)}
			write(t, w, good, []any{"x", int64(9)})
			latestFile := results.Location(results.DefaultPrefix, latestLoad(1, 2)) + results.DataName
			corrupt(t, filepath.Join(dir, latestFile))
			seriesLoc := results.Location(results.DefaultPrefix, seriesLoad(1, 2))
			if err := b.Delete(ctx, seriesLoc+results.ManifestName); err != nil {
				t.Fatal(err)
			}

			res, err := l.Load(ctx)
			if err == nil {
				t.Fatal("a corrupt result loaded without an error")
			}
			if !strings.Contains(err.Error(), latestFile) || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), "sha256") {
				t.Errorf("the error does not name the corrupt file %s and why: %v", latestFile, err)
			}
			if len(res.Incomplete) != 1 || res.Incomplete[0] != seriesLoc {
				t.Errorf("incomplete %q, want [%s]", res.Incomplete, seriesLoc)
			}
			if len(res.Loaded) != 1 || res.Loaded[0].Table != "other" {
				t.Errorf("loaded %d results, want the good one only", len(res.Loaded))
			}
			warehousetest.Equal(t, wantLatest, read(t, wh, "latest"))
			warehousetest.Equal(t, wantSeries, read(t, wh, "series"))
			if !exists(filepath.Join(dir, latestFile)) || !exists(filepath.Join(dir, seriesLoc+results.DataName)) {
				t.Error("the loader removed files from storage")
			}

			// Truncated and missing files are refused too, by name.
			full, err := os.ReadFile(filepath.Join(dir, latestFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, latestFile), full[:len(full)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Load(ctx); err == nil || !strings.Contains(err.Error(), latestFile) || !strings.Contains(err.Error(), "truncated") {
				t.Errorf("truncated file: %v", err)
			}
			if err := os.Remove(filepath.Join(dir, latestFile)); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Load(ctx); err == nil || !strings.Contains(err.Error(), latestFile) || !strings.Contains(err.Error(), "missing") {
				t.Errorf("missing file: %v", err)
			}
			warehousetest.Equal(t, wantLatest, read(t, wh, "latest"))

			// Written again (the run rerun), both load.
			write(t, w, latestLoad(1, 2), []any{"new", int64(2)})
			write(t, w, seriesLoad(1, 2), []any{"new", int64(2)})
			res, err = l.Load(ctx)
			if err != nil || len(res.Loaded) != 2 {
				t.Fatalf("after the rewrite: %d loaded, %v; want 2", len(res.Loaded), err)
			}
			warehousetest.Equal(t, warehousetest.Expect(latestLoad(1, 2), []any{"new", int64(2)}), read(t, wh, "latest"))
			if got := read(t, wh, "series"); len(got.Rows) != 2 {
				t.Errorf("series has %d rows, want day 0's and day 1's", len(got.Rows))
			}
		})
	}
}

// corrupt changes one byte in the middle of path, keeping its size.
func corrupt(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestSuperseded: a replace result older than the one the warehouse holds
// (it reached storage late) is not loaded over the newer rows.
func TestSuperseded(t *testing.T) {
	ctx := t.Context()
	b, _ := fileBucket(t)
	w := results.NewWriter(results.Config{}, b)
	wh := openDuckDB(t)
	defer func() { _ = wh.Close() }()
	l := results.NewLoader(results.Config{}, b, wh, nil)
	write(t, w, latestLoad(2, 3), []any{"newer", int64(3)})
	if _, err := l.Load(ctx); err != nil {
		t.Fatal(err)
	}
	write(t, w, latestLoad(1, 2), []any{"older", int64(2)})
	res, err := l.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Loaded) != 0 || len(res.Superseded) != 1 {
		t.Errorf("loaded %d, superseded %q; want 0 and the older result", len(res.Loaded), res.Superseded)
	}
	warehousetest.Equal(t, warehousetest.Expect(latestLoad(2, 3), []any{"newer", int64(3)}), read(t, wh, "latest"))
	// Decided once: the next load counts it as held.
	res, err = l.Load(ctx)
	if err != nil || res.Held != 2 || len(res.Superseded) != 0 {
		t.Errorf("next load: %d held, superseded %q, %v; want 2 held and none superseded", res.Held, res.Superseded, err)
	}
}

// TestWriteFailsCommitsNothing: a result whose rows fail midway leaves no
// manifest, so nothing loads; nor does one written over a committed
// result leave the old manifest over the new data.
func TestWriteFailsCommitsNothing(t *testing.T) {
	ctx := t.Context()
	b, dir := fileBucket(t)
	w := results.NewWriter(results.Config{}, b)
	load := seriesLoad(0, 1)
	write(t, w, load, []any{"a", int64(1)})
	_, err := w.Write(ctx, load, warehousetest.FailingRows(kv, 5000, true))
	if err == nil {
		t.Fatal("a failing stream was written")
	}
	loc := results.Location(results.DefaultPrefix, load)
	if exists(filepath.Join(dir, loc+results.ManifestName)) {
		t.Errorf("%s%s is there after a failed write", loc, results.ManifestName)
	}
	wh := openDuckDB(t)
	defer func() { _ = wh.Close() }()
	res, err := results.NewLoader(results.Config{}, b, wh, nil).Load(ctx)
	if err != nil || len(res.Loaded) != 0 {
		t.Errorf("load after a failed write: %d loaded, %v; want none", len(res.Loaded), err)
	}
	if _, err := w.Write(ctx, warehouse.Load{Table: "Bad"}, warehouse.SliceRows(nil)); err == nil {
		t.Error("an invalid load was written")
	}
	if _, err := w.Write(ctx, warehouse.Load{Table: "t", Mode: warehouse.Append, Columns: kv, Provenance: warehousetest.ProvFrom(warehousetest.Day(0), 1, "../x")},
		warehouse.SliceRows(nil)); err == nil {
		t.Error("a source that is not an identifier was written into the path")
	}
}

// TestS3 writes to and loads from an in-process S3 server (gofakes3)
// through gocloud's s3blob.
func TestS3(t *testing.T) {
	ctx := t.Context()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket("results"); err != nil {
		t.Fatal(err)
	}
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("key", "secret", ""),
	})
	b, err := s3blob.OpenBucket(ctx, client, "results", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	w := results.NewWriter(results.Config{}, b)
	load := seriesLoad(0, 1)
	rows := warehousetest.GenRows(kv, 20000)
	if n, err := w.Write(ctx, load, rows); err != nil || n != 20000 {
		t.Fatalf("write: %d, %v", n, err)
	}
	keys := listKeys(t, b)
	loc := results.Location(results.DefaultPrefix, load)
	if len(keys) != 2 || keys[0] != loc+results.ManifestName || keys[1] != loc+results.DataName {
		t.Errorf("objects %q, want the manifest and the data file under %s", keys, loc)
	}
	wh := openPostgres(t)
	defer func() { _ = wh.Close() }()
	res, err := results.NewLoader(results.Config{}, b, wh, nil).Load(ctx)
	if err != nil || res.Rows != 20000 {
		t.Fatalf("load: %d rows, %v", res.Rows, err)
	}
	if got := read(t, wh, "series"); len(got.Rows) != 20000 {
		t.Errorf("%d rows in the warehouse, want 20000", len(got.Rows))
	}
	if res, err := results.NewLoader(results.Config{}, b, wh, nil).Load(ctx); err != nil || res.Held != 1 || len(res.Loaded) != 0 {
		t.Errorf("second load from S3: %d held, %d loaded, %v; want 1 and 0", res.Held, len(res.Loaded), err)
	}
}

func listKeys(t *testing.T, b *blob.Bucket) []string {
	t.Helper()
	var keys []string
	it := b.List(nil)
	for {
		o, err := it.Next(t.Context())
		if err != nil { // io.EOF at the end
			break
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// TestLedgerFailureLoadsAgain: a result loaded whose ledger entry could
// not be written (a crash between the two, here a ledger schema the
// warehouse refuses) is loaded again by the next load, and the table
// still holds it once.
func TestLedgerFailureLoadsAgain(t *testing.T) {
	ctx := t.Context()
	b, _ := fileBucket(t)
	w := results.NewWriter(results.Config{}, b)
	write(t, w, seriesLoad(0, 1), []any{"a", int64(1)}, []any{"b", int64(2)})
	write(t, w, latestLoad(0, 1), []any{"c", int64(3)})
	wh := openDuckDB(t)
	defer func() { _ = wh.Close() }()
	_, err := results.NewLoader(results.Config{Schema: "main"}, b, wh, nil).Load(ctx)
	if err == nil || !strings.Contains(err.Error(), "not recorded in the ledger") {
		t.Fatalf("load with a ledger that cannot be written: %v", err)
	}
	if got := read(t, wh, "series"); len(got.Rows) != 2 {
		t.Fatalf("series has %d rows after the first load, want 2", len(got.Rows))
	}
	res, err := results.NewLoader(results.Config{}, b, wh, nil).Load(ctx)
	if err != nil || len(res.Loaded) != 2 {
		t.Fatalf("second load: %d results, %v; want both again", len(res.Loaded), err)
	}
	warehousetest.Equal(t, warehousetest.Expect(seriesLoad(0, 1), []any{"a", int64(1)}, []any{"b", int64(2)}), read(t, wh, "series"))
	warehousetest.Equal(t, warehousetest.Expect(latestLoad(0, 1), []any{"c", int64(3)}), read(t, wh, "latest"))
}

// TestHeldResultsAreNotRead: what the warehouse holds is decided from the
// listing (the manifest's MD5) and the ledger: a second load reads no
// manifest it holds, here one overwritten behind fileblob's back, whose
// listed MD5 stays the one written.
func TestHeldResultsAreNotRead(t *testing.T) {
	ctx := t.Context()
	b, dir := fileBucket(t)
	w := results.NewWriter(results.Config{}, b)
	write(t, w, seriesLoad(0, 1), []any{"a", int64(1)})
	wh := openDuckDB(t)
	defer func() { _ = wh.Close() }()
	l := results.NewLoader(results.Config{}, b, wh, nil)
	if _, err := l.Load(ctx); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, results.Location(results.DefaultPrefix, seriesLoad(0, 1))+results.ManifestName)
	if err := os.WriteFile(manifest, []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(ctx)
	if err != nil || res.Held != 1 || len(res.Loaded) != 0 {
		t.Errorf("second load: %d held, %d loaded, %v; want 1 held and no manifest read", res.Held, len(res.Loaded), err)
	}
	// A new warehouse does read it, and refuses it.
	fresh := openDuckDB(t)
	defer func() { _ = fresh.Close() }()
	if _, err := results.NewLoader(results.Config{}, b, fresh, nil).Load(ctx); err == nil || !strings.Contains(err.Error(), "not a result manifest") {
		t.Errorf("load of a broken manifest into a new warehouse: %v", err)
	}
}
