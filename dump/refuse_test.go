package dump_test

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
	"gocloud.dev/blob/s3blob"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
)

// TestLoadRefusesBadDumps loads a good dump, then offers broken newer
// dumps: a flipped byte, a truncated file, a manifest listing a missing
// file, and a dump without a manifest. Each is refused with a message
// naming the problem, and the warehouse keeps the first dump's tables.
func TestLoadRefusesBadDumps(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	def := repoDefinition(t)
	dir := t.TempDir()
	bucketDir := filepath.Join(dir, "bucket")
	store := newStore(t)
	var logs syncBuffer
	x := exporter(t, dsn, fileBucket(t, bucketDir), store, &logs, dump.Config{Keep: 10})
	first, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	whPath := filepath.Join(dir, "w.duckdb")
	load := func() (*dump.LoadResult, error) {
		wh := openDuck(t, whPath)
		defer func() { _ = wh.Close() }()
		return dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), wh, store, nil).Load(ctx)
	}
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
	before, _ := warehouseCounts(t, whPath, "gitlab_public")
	// Production deletes rows; the next dump has fewer.
	if _, err := pgxExec(t, dsn, `DELETE FROM issues WHERE id IN (SELECT id FROM issues WHERE NOT confidential ORDER BY id LIMIT 50)`); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		spoil func(loc string)
		want  string
	}{
		{"flipped byte", func(loc string) { flip(t, filepath.Join(bucketDir, loc, "notes.csv.gz")) }, "notes.csv.gz is corrupt (sha256"},
		{"truncated file", func(loc string) { truncate(t, filepath.Join(bucketDir, loc, "issues.csv.gz")) }, "issues.csv.gz has"},
		{"missing file", func(loc string) { remove(t, filepath.Join(bucketDir, loc, "events.csv.gz")) }, "events.csv.gz is listed in the manifest but missing"},
		{"missing manifest", func(loc string) { remove(t, filepath.Join(bucketDir, loc, dump.ManifestName)) }, ""},
	} {
		m, err := x.Dump(ctx, def)
		if err != nil {
			t.Fatal(err)
		}
		c.spoil(m.Location)
		res, err := load()
		switch {
		case c.want == "":
			// The newest complete dump is the first, already loaded; the
			// incomplete one is named.
			if err != nil || res.Status != history.DumpSkipped || len(res.Incomplete) != 1 || res.Incomplete[0] != m.Location {
				t.Errorf("%s: load %+v, %v; want the incomplete %s skipped", c.name, res, err, m.Location)
			}
		case err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "refused"):
			t.Errorf("%s: load error %v, want %q and refused", c.name, err, c.want)
		}
		after, _ := warehouseCounts(t, whPath, "gitlab_public")
		if after["issues"] != before["issues"] || after["notes"] != before["notes"] {
			t.Errorf("%s: warehouse has %d issues and %d notes, the first dump %d and %d", c.name, after["issues"], after["notes"], before["issues"], before["notes"])
		}
		if c.want != "" {
			// Take the broken dump away, as an operator would: the next
			// complete one is loaded.
			if err := os.RemoveAll(filepath.Join(bucketDir, m.Location)); err != nil {
				t.Fatal(err)
			}
		}
	}
	last, err := store.LastDumpLoad(ctx)
	if err != nil || last.Location != first.Location {
		t.Errorf("last load %+v, %v; want the first dump", last, err)
	}
	loads, _ := store.DumpLoads(ctx, 0)
	failed := 0
	for _, l := range loads {
		if l.Status == history.DumpFailed {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d failed loads recorded, want 3: %+v", failed, loads)
	}
	// A good dump after all that loads, with the deleted rows gone.
	if _, err := x.Dump(ctx, def); err != nil {
		t.Fatal(err)
	}
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
	after, _ := warehouseCounts(t, whPath, "gitlab_public")
	if after["issues"] >= before["issues"] {
		t.Errorf("after the deletion: %d issues, before %d", after["issues"], before["issues"])
	}
}

func pgxExec(t *testing.T, dsn, sql string) (int64, error) {
	tag, err := pgtestConnect(t, dsn).Exec(t.Context(), sql)
	return tag.RowsAffected(), err
}

func flip(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// TestS3 dumps to and loads from an in-process S3 server (gofakes3)
// through gocloud's s3blob.
func TestS3(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket("dumps"); err != nil {
		t.Fatal(err)
	}
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("key", "secret", ""),
	})
	b, err := s3blob.OpenBucket(ctx, client, "dumps", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	dsn := source(t, 1)
	var logs syncBuffer
	m, err := exporter(t, dsn, b, nil, &logs, dump.Config{SplitSize: 256 << 10, Keep: 1}).Dump(ctx, repoDefinition(t))
	if err != nil {
		t.Fatal(err)
	}
	objects, err := backend.ListBucket("dumps", nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, tb := range m.Tables {
		files += len(tb.Files)
		if tb.Keys != nil {
			files++ // the keys of an incremental table
		}
		if tb.KeyBuckets != nil {
			t.Errorf("%s: a key-bucket summary (it counts rows out of the scope)", tb.Name)
		}
	}
	if len(objects.Contents) != files+1 {
		t.Errorf("%d objects in the S3 bucket, want %d files (data and keys) and the manifest", len(objects.Contents), files)
	}
	whPath := filepath.Join(t.TempDir(), "w.duckdb")
	wh := openDuck(t, whPath)
	res, err := dump.NewLoader(dump.LoadConfig{}, b, wh, nil, nil).Load(context.WithoutCancel(ctx))
	if err != nil {
		t.Fatal(err)
	}
	_ = wh.Close()
	rows, _ := warehouseCounts(t, whPath, "gitlab_public")
	for _, tb := range m.Tables {
		if rows[tb.Name] != tb.Rows {
			t.Errorf("%s: %d rows loaded from S3, the manifest says %d", tb.Name, rows[tb.Name], tb.Rows)
		}
	}
	if res.Tables != len(m.Tables) {
		t.Errorf("loaded %d tables, want %d", res.Tables, len(m.Tables))
	}
}
