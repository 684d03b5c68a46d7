package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// TestResultsThroughStorage: with results.storage_url, run writes its
// results to storage with no warehouse configured (and opens none), and
// load, on the warehouse side with only the storage and the warehouse,
// imports them; a second load loads nothing. The tables equal those of
// direct runs of the same queries, append and replace alike, after two
// runs of one day.
func TestResultsThroughStorage(t *testing.T) {
	t.Parallel()
	replaceQuery := strings.Replace(goodQuery, "-- group_size: actors\n", "-- group_size: actors\n-- load: replace\n", 1)
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery, "a/latest_actors.sql": replaceQuery})
	dir := t.TempDir()
	storage := "file://" + filepath.Join(dir, "results") + "?create_dir=true"
	viaStorage := filepath.Join(dir, "via-storage.duckdb")
	// The production side: source, history, queries and storage; no
	// warehouse.
	production := writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, w.source)+"\n"+
		"history:\n  url: "+withPassword(t, w.history)+"\n"+
		"queries:\n  dir: "+w.queries+"\n  approval: none\n"+
		"guard:\n  schema: "+syntheticSchema(t)+"\n"+
		"results:\n  storage_url: "+storage+"\n")
	// The warehouse side: storage and warehouse only.
	warehouseSide := writeConfig(t, "warehouse:\n  url: duckdb://"+viaStorage+"\nresults:\n  storage_url: "+storage+"\n")
	_, defaultWarehouseBefore := os.Stat("metricgate.duckdb")

	cmd := func(config string, args ...string) string {
		t.Helper()
		code, out, errOut := w.runWith(config, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	for round := range 2 {
		cmd(w.config, "run", "--once")          // direct
		out := cmd(production, "run", "--once") // through storage
		if !regexp.MustCompile(`(?m)^actors\s+main\s+succeeded\s+11\s`).MatchString(out) ||
			!strings.Contains(out, "results written to file://"+filepath.Join(dir, "results")+"/results/ (results.storage_url): metricgate load imports them") {
			t.Errorf("round %d: run into storage:\n%s", round, out)
		}
		out = cmd(warehouseSide, "load")
		if !strings.Contains(out, "loaded 2 results, 22 rows") {
			t.Errorf("round %d: load:\n%s", round, out)
		}
		if out = cmd(warehouseSide, "load"); !strings.Contains(out, "no new result in storage: "+map[int]string{0: "2", 1: "4"}[round]+" already loaded") {
			t.Errorf("round %d: second load:\n%s", round, out)
		}
	}
	if _, err := os.Stat("metricgate.duckdb"); err == nil && defaultWarehouseBefore != nil {
		t.Error("run with results.storage_url opened the default warehouse (metricgate.duckdb)")
	}
	manifests, _ := filepath.Glob(filepath.Join(dir, "results", "results", "*", "*", "main", "*", "manifest.json"))
	if len(manifests) != 4 {
		t.Errorf("%d manifests in storage, want 4 (2 queries, 2 runs): %q", len(manifests), manifests)
	}

	// A new warehouse, from storage where one file is corrupt and one
	// result has no manifest: the rest loads, the corrupt file is named,
	// load exits 1.
	broken := strings.Replace(manifests[0], "manifest.json", "result.csv.gz", 1)
	data, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(broken, data, 0o644); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(filepath.Dir(filepath.Dir(broken)), "orphan", "result.csv.gz")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := writeConfig(t, "warehouse:\n  url: duckdb://"+filepath.Join(dir, "fresh.duckdb")+"\nresults:\n  storage_url: "+storage+"\n")
	code, out, errOut := w.runWith(fresh, "load")
	brokenKey := strings.TrimPrefix(broken, filepath.Join(dir, "results")+"/")
	if code != ExitProblems || !strings.Contains(out, "loaded 3 results") ||
		!strings.Contains(errOut, brokenKey+" is corrupt") || !strings.Contains(errOut, "orphan/result.csv.gz not loaded") {
		t.Errorf("load of a corrupt file and a result without a manifest: exit %d\n%s%s", code, out, errOut)
	}

	for _, table := range []string{"actors", "latest_actors"} {
		direct, _, err := readDuckDB(t.Context(), w.wh, table)
		if err != nil {
			t.Fatal(err)
		}
		stored, _, err := readDuckDB(t.Context(), viaStorage, table)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored.Rows) != 11 {
			t.Errorf("%s: %d rows through storage, want 11 (one slice of the day)", table, len(stored.Rows))
		}
		// Run ids and load times differ between the two roads; the rest
		// is equal.
		same := slices.DeleteFunc(slices.Collect(columnNames(direct)), func(c string) bool { return c == "_run_id" || c == "_loaded_at" })
		warehousetest.Equal(t, warehousetest.Project(direct, same...), warehousetest.Project(stored, same...))
	}

	// A PostgreSQL warehouse loads the same storage into the same tables.
	pg := pgtest.New(t)
	data[len(data)/2] ^= 0xff // the corrupt file repaired
	if err := os.WriteFile(broken, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out = cmd(writeConfig(t, "warehouse:\n  url: "+pg+"\nresults:\n  storage_url: "+strings.Replace(storage, "?create_dir=true", "", 1)+"\n"), "load")
	if !strings.Contains(out, "loaded 4 results, 44 rows") {
		t.Errorf("load into PostgreSQL:\n%s", out)
	}
	for _, table := range []string{"actors", "latest_actors"} {
		want, _, err := readDuckDB(t.Context(), viaStorage, table)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readWarehouseTable(t.Context(), pg, table)
		if err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, want, got)
	}
}

// runWith runs args with config instead of the world's.
func (w *runWorld) runWith(config string, args ...string) (int, string, string) {
	w.t.Helper()
	saved := w.config
	defer func() { w.config = saved }()
	w.config = config
	return w.run(args...)
}

func columnNames(t *warehouse.Table) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, c := range t.Columns {
			if !yield(c.Name) {
				return
			}
		}
	}
}

// TestResultsStorageURL: a results.storage_url that is not storage is a
// configuration problem located in the file, or naming the variable that
// set it.
func TestResultsStorageURL(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery})
	config := writeConfig(t, "sources:\n  main:\n    url: "+w.source+"\nhistory:\n  url: "+w.history+"\n"+
		"queries:\n  dir: "+w.queries+"\n  approval: none\nguard:\n  schema: "+syntheticSchema(t)+"\n"+
		"results:\n  storage_url: postgres://x/y\n")
	code, out, errOut := w.runWith(config, "run", "--once")
	if code != ExitUsage || !strings.Contains(errOut, config+`:12:16: results.storage_url: unknown scheme "postgres": want file, s3, gs`) {
		t.Errorf("run with a bad results.storage_url: exit %d\n%s%s", code, out, errOut)
	}
	var stdout, stderr bytes.Buffer
	code = run(t.Context(), []string{"load", "--config", writeConfig(t, "warehouse:\n  url: duckdb://"+filepath.Join(t.TempDir(), "w.duckdb")+"\n")},
		&env{stdout: &stdout, stderr: &stderr, environ: []string{"METRICGATE_RESULTS_STORAGE_URL=gcs://bucket"}})
	if code != ExitUsage || !strings.Contains(stderr.String(), "METRICGATE_RESULTS_STORAGE_URL") || !strings.Contains(stderr.String(), `unknown scheme "gcs"`) {
		t.Errorf("load with a bad METRICGATE_RESULTS_STORAGE_URL: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
