package dump_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob/fileblob"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// helperDump is the child of TestKilledMidDump: it dumps into
// DUMP_TEST_BUCKET, prints "exporting" once rows flow and waits to be
// killed.
func helperDump() int {
	ctx := context.Background()
	b, err := fileblob.OpenBucket(os.Getenv("DUMP_TEST_BUCKET"), &fileblob.Options{CreateDir: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	def, err := dump.ParseConfig(os.DirFS(".."), "dump.yml", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	said := false
	var rec dump.Recorder
	if h := os.Getenv("DUMP_TEST_HISTORY"); h != "" {
		// An increment: the history holds the watermarks.
		store, err := history.Open(ctx, h)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer func() { _ = store.Close() }()
		rec = store
	}
	e, err := dump.New(dump.Config{SourceURL: os.Getenv("DUMP_TEST_SOURCE"), PseudonymKey: testKey, SplitSize: 4 << 10, Workers: 1},
		dump.Deps{Bucket: b, Recorder: rec, Progress: func(p dump.Progress) {
			if p.Bytes > 0 && !said {
				said = true
				fmt.Println("exporting")
				select {} // wait for SIGKILL, files half written
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if _, err := e.Dump(ctx, def); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("finished")
	return 0
}

// killDump runs helperDump with env and kills it once it writes files.
func killDump(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "DUMP_TEST_HELPER=1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "exporting\n" {
		_ = cmd.Wait()
		t.Fatalf("helper said %q, stderr:\n%s", line, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) {
		t.Fatalf("killed helper: %v", err)
	}
}

// TestKilledMidIncrement kills an increment (SIGKILL) while it writes
// files: no manifest, the watermarks stay the full dump's, the warehouse
// keeps the full dump, and the next dump is an increment on the same base
// that loads.
func TestKilledMidIncrement(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	histDSN := pgtest.New(t)
	store, err := history.Open(ctx, histDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bucketDir := t.TempDir()
	def := repoDefinition(t)
	var logs syncBuffer
	x := exporter(t, dsn, fileBucket(t, bucketDir), store, &logs, dump.Config{})
	full, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	wh := openDuck(t, filepath.Join(t.TempDir(), "w.duckdb"))
	defer func() { _ = wh.Close() }()
	loader := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), wh, newStore(t), nil)
	if _, err := loader.Load(ctx); err != nil {
		t.Fatal(err)
	}
	run(t, pgtest.Connect(t, dsn), `UPDATE notes SET note = 'changed', updated_at = `+utcNow+` WHERE id IN (SELECT id FROM notes ORDER BY id LIMIT 100)`)
	killDump(t, "DUMP_TEST_BUCKET="+bucketDir, "DUMP_TEST_SOURCE="+dsn, "DUMP_TEST_HISTORY="+histDSN)
	if dumps, err := store.Dumps(ctx, 1); err != nil || len(dumps) != 1 || dumps[0].Kind != history.DumpIncremental || dumps[0].Status != history.DumpRunning {
		t.Fatalf("the killed dump in the history: %+v (%v), want an increment left running", dumps, err)
	}
	marks, err := store.DumpWatermarks(ctx, def.Group)
	if err != nil || len(marks) == 0 || marks[0].Location != full.Location {
		t.Fatalf("watermarks after the killed increment: %v (%v), want the full dump's", marks, err)
	}
	res, err := loader.Load(ctx)
	if err != nil || res.Status != history.DumpSkipped {
		t.Fatalf("load after the killed increment: %+v, %v; want skipped (the full dump is loaded)", res, err)
	}
	inc, err := x.Dump(ctx, def)
	if err != nil || !inc.Incremental() || inc.Base != full.Location {
		t.Fatalf("dump after the killed one: %+v, %v; want an increment on %s", inc, err, full.Location)
	}
	if res, err := loader.Load(ctx); err != nil || len(res.Loaded) != 1 || res.Loaded[0].Location != inc.Location {
		t.Fatalf("load of the increment: %+v, %v", res, err)
	}
}

// TestKilledMidDump kills a dump (SIGKILL) while it writes files: the
// dump directory has files but no manifest, and load finds nothing to
// load.
func TestKilledMidDump(t *testing.T) {
	t.Parallel()
	dsn := source(t, 1)
	bucketDir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DUMP_TEST_HELPER=1", "DUMP_TEST_BUCKET="+bucketDir, "DUMP_TEST_SOURCE="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "exporting\n" {
		_ = cmd.Wait()
		t.Fatalf("helper said %q, stderr:\n%s", line, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) {
		t.Fatalf("killed helper: %v", err)
	}
	var files, manifests int
	err = filepath.Walk(bucketDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files++
			if filepath.Base(p) == dump.ManifestName {
				manifests++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || manifests != 0 {
		t.Fatalf("after the kill: %d files, %d manifests; want some files and no manifest", files, manifests)
	}
	wh := openDuck(t, filepath.Join(t.TempDir(), "w.duckdb"))
	defer func() { _ = wh.Close() }()
	_, err = dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), wh, nil, nil).Load(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no complete dump") {
		t.Fatalf("load after a killed dump: %v, want no complete dump", err)
	}
}
