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
	e, err := dump.New(dump.Config{SourceURL: os.Getenv("DUMP_TEST_SOURCE"), PseudonymKey: testKey, SplitSize: 4 << 10, Workers: 1},
		dump.Deps{Bucket: b, Progress: func(p dump.Progress) {
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
