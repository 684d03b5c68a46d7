package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/validate")

// TestValidateGolden runs `metricgate validate` in every directory of
// testdata/validate and compares stdout, stderr and the exit code with the
// files stdout, stderr and exit there. The arguments come from the file
// args, one per line (default: none, so queries.dir). Run with -update to
// rewrite the expectations after a deliberate change, and review the diff.
func TestValidateGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/validate/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 8 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"validate"}
			if b, err := os.ReadFile(filepath.Join(abs, "args")); err == nil {
				for _, a := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					if a != "" {
						args = append(args, a)
					}
				}
			}
			t.Chdir(abs)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: []string{"HOME=/nonexistent"}})
			got := map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "exit": strconv.Itoa(code) + "\n"}
			for _, name := range []string{"stdout", "stderr", "exit"} {
				path := filepath.Join(abs, name)
				if *update {
					if err := os.WriteFile(path, []byte(got[name]), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run the test with -update to create it)", err)
				}
				if got[name] != string(want) {
					t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got[name], want)
				}
			}
		})
	}
}
