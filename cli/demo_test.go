package cli

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/queries"
)

// TestDemo runs `metricgate demo` end to end on the built-in examples and on
// a directory with a query the runtime type rule refuses: every example runs
// and keeps rows, the refused one fails the demo with its reason, and no
// cluster directory is left behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	examples, err := catalog.Load(queries.FS, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"demo", "--queries", filepath.Join(dir, "none")}, &env{stdout: &stdout, stderr: &stderr}); code != ExitUsage {
		t.Fatalf("demo --queries with a missing directory: exit %d, want %d", code, ExitUsage)
	}
	// No queries/ in the package directory: the built-in examples run.
	code := run(t.Context(), []string{"demo", "--dir", filepath.Join(dir, "a"), "--dump", "../dump.yml"}, &env{stdout: &stdout, stderr: &stderr})
	if code != ExitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	// The repository's dump.yml is dumped and loaded after the queries.
	if !regexp.MustCompile(`loaded dump dumps/\S+ \(snapshot [^)]+\): 14 tables, [1-9]\d* rows into schema gitlab_public`).MatchString(stdout.String()) {
		t.Errorf("the demo does not say it loaded the dump:\n%s", stdout.String())
	}
	// rows, then suppressed rows and cells as decades (0, 1-9, 10-99, …).
	okRow := regexp.MustCompile(`(?m)^(\w+)\s+main\s+succeeded\s+(\d+)\s+(?:0|10*-9+)\s+(?:0|10*-9+)\s+\S+\s*$`)
	rows := okRow.FindAllStringSubmatch(stdout.String(), -1)
	if len(rows) != len(examples.Queries) {
		t.Fatalf("%d ok rows for %d examples:\n%s", len(rows), len(examples.Queries), stdout.String())
	}
	for _, r := range rows {
		if r[2] == "0" {
			t.Errorf("example %s keeps no row at scale 1", r[1])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "postgres")); !os.IsNotExist(err) {
		t.Errorf("cluster directory left behind: %v", err)
	}
	// Every query's table is in the DuckDB file with the rows the table
	// printed; a second demo on the same day leaves exactly one copy.
	counts := demoTableCounts(t, filepath.Join(dir, "a", "warehouse.duckdb"), rows)
	stdout.Reset()
	if code := run(t.Context(), []string{"demo", "--dir", filepath.Join(dir, "a")}, &env{stdout: &stdout, stderr: &stderr}); code != ExitOK {
		t.Fatalf("second demo: exit %d\n%s", code, stderr.String())
	}
	if again := demoTableCounts(t, filepath.Join(dir, "a", "warehouse.duckdb"), rows); !maps.Equal(counts, again) {
		t.Errorf("tables after the second demo %v, after the first %v", again, counts)
	}

	bad := filepath.Join(dir, "bad")
	if err := os.MkdirAll(filepath.Join(bad, "plan"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "-- description: Newest title per state.\n-- owner: @pm\n-- group_size: n\n" +
		"SELECT confidential, max(state_id::text) AS newest, count(*) AS n FROM issues GROUP BY 1\n"
	if err := os.WriteFile(filepath.Join(bad, "plan", "newest_title.sql"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file with a header problem and a guard problem: both are shown,
	// and the demo says the file is left out.
	broken := "-- description: Titles.\n-- group_size: n\nSELECT string_agg(title, ',') AS t, count(*) AS n FROM issues\n"
	if err := os.WriteFile(filepath.Join(bad, "plan", "broken.sql"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	code = run(context.WithoutCancel(t.Context()), []string{"demo", "--dir", filepath.Join(dir, "b"), "--queries", bad},
		&env{stdout: &stdout, stderr: &stderr})
	if code != ExitProblems {
		t.Fatalf("demo with a text aggregate: exit %d, want %d", code, ExitProblems)
	}
	if !regexp.MustCompile(`newest_title\s+main\s+failed\s+0\s+0\s+0\s+\S+\s+refused by the guard: plan/newest_title.sql:4:\d+: max\(\) of a category's value`).MatchString(stdout.String()) {
		t.Errorf("the refusal does not say why:\n%s", stdout.String())
	}
	brokenPath := filepath.Join(bad, "plan", "broken.sql")
	if !strings.Contains(stderr.String(), brokenPath+`:1:1: missing required header key "owner"`) ||
		!regexp.MustCompile(regexp.QuoteMeta(brokenPath)+`:3:\d+: .*string_agg`).MatchString(stderr.String()) ||
		!strings.Contains(stderr.String(), "demo: "+brokenPath+" is left out of the run: 3 problems above") {
		t.Errorf("the invalid file's problems and its leaving out are not all said:\n%s", stderr.String())
	}
}

// demoTableCounts reads each table the demo printed and checks that it
// holds the number of rows the demo reported.
func demoTableCounts(t *testing.T, path string, printed [][]string) map[string]int {
	t.Helper()
	wh, err := openWarehouse(t.Context(), "duckdb://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wh.Close() }()
	counts := map[string]int{}
	for _, r := range printed {
		tb, err := wh.Read(t.Context(), r[1])
		if err != nil {
			t.Fatalf("table %s: %v", r[1], err)
		}
		if fmt.Sprint(len(tb.Rows)) != r[2] {
			t.Errorf("table %s has %d rows, the demo printed %s", r[1], len(tb.Rows), r[2])
		}
		counts[r[1]] = len(tb.Rows)
	}
	return counts
}
