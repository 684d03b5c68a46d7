package dump_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// BenchmarkDumpLoad measures, on one gitlabfake database (scale
// DUMP_BENCH_SCALE, default 35: about 5 million rows), the binary's
// `metricgate dump` against psql \copy of the same SELECTs piped through
// gzip table after table, and `metricgate load` into DuckDB against
// DuckDB's own read_csv of the same files, with the peak RSS of dump and
// load (their own processes). Run it with -benchtime 1x:
//
//	go test -run '^$' -bench DumpLoad -benchtime 1x -timeout 60m ./dump/
func BenchmarkDumpLoad(b *testing.B) {
	scale := 35
	if s, err := strconv.Atoi(os.Getenv("DUMP_BENCH_SCALE")); err == nil && s > 0 {
		scale = s
	}
	start := time.Now()
	dsn := pgtest.New(b)
	stats, err := gitlabfake.Load(b.Context(), pgtest.Connect(b, dsn), gitlabfake.Options{Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	setup := time.Since(start)
	dir := b.TempDir()
	bin := filepath.Join(dir, "metricgate")
	if out, err := exec.CommandContext(b.Context(), "go", "build", "-o", bin, "../cmd/metricgate").CombinedOutput(); err != nil {
		b.Fatalf("build metricgate: %v\n%s", err, out)
	}
	def := repoDefinition(b)
	abs, err := filepath.Abs("../dump.yml")
	if err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "metricgate.yml")
	whPath := filepath.Join(dir, "w.duckdb")
	yml := fmt.Sprintf("sources:\n  main:\n    url: %q\nhistory:\n  url: %q\nwarehouse:\n  url: duckdb://%s\ndump:\n  config: %s\n  storage_url: file://%s?create_dir=true\n",
		dsn, pgtest.New(b), whPath, abs, filepath.Join(dir, "dumps"))
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		b.Fatal(err)
	}
	environ := append(os.Environ(), "METRICGATE_DUMP_PSEUDONYM_KEY="+string(testKey))

	// psql baseline: the same SELECTs (without pseudonymization), one
	// table after another, through gzip.
	psql := filepath.Join(pgtest.SharedCluster(b).BinDir(), "psql")
	types, err := dump.CheckSource(b.Context(), pgtest.Connect(b, dsn), def)
	if err != nil {
		b.Fatal(err)
	}
	base := filepath.Join(dir, "psql")
	if err := os.MkdirAll(base, 0o755); err != nil {
		b.Fatal(err)
	}
	var psqlTime time.Duration
	var dumpTime, loadTime, readTime time.Duration
	var dumpRSS, loadRSS, readRSS int64
	var rows int64
	for b.Loop() {
		t0 := time.Now()
		for _, t := range def.Tables {
			arrays := map[string]bool{}
			for _, c := range t.Columns {
				if strings.HasPrefix(types[t.Name][c].UDT, "_") {
					arrays[c] = true
				}
			}
			q := strings.ReplaceAll(def.SelectSQL(t, arrays), "\n", " ")
			cmd := exec.CommandContext(b.Context(), "sh", "-c", fmt.Sprintf(`"$PSQL" -X -q -d "$DSN" -c "\copy (%s) TO STDOUT CSV HEADER" | gzip -c > "$OUT"`, strings.ReplaceAll(q, `"`, `\"`)))
			cmd.Env = append(os.Environ(), "PSQL="+psql, "DSN="+dsn, "OUT="+filepath.Join(base, t.Name+".csv.gz"))
			if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
				b.Fatalf("psql %s: %v\n%s", t.Name, err, out)
			}
		}
		psqlTime = time.Since(t0)

		var out []byte
		dumpTime, dumpRSS, out = runBin(b, bin, environ, "dump", "--config", cfg)
		if rows = parseRows(out); rows == 0 {
			b.Fatalf("dump printed no row total:\n%s", out)
		}
		loadTime, loadRSS, _ = runBin(b, bin, environ, "load", "--config", cfg, "--force")
		readTime, readRSS = duckRead(b, filepath.Join(dir, "dumps"), filepath.Join(dir, "read.duckdb"))
	}
	_, baseRSS, _ := runBin(b, bin, environ, "version")
	b.ReportMetric(float64(baseRSS)/1024, "version_peak_rss_MB")
	b.ReportMetric(float64(stats.Total()), "source_rows")
	b.ReportMetric(setup.Seconds(), "setup_s")
	b.ReportMetric(float64(rows), "dumped_rows")
	b.ReportMetric(float64(rows)/dumpTime.Seconds(), "dump_rows/s")
	b.ReportMetric(float64(rows)/psqlTime.Seconds(), "psql_gzip_rows/s")
	b.ReportMetric(psqlTime.Seconds()/dumpTime.Seconds(), "dump_vs_psql_x")
	b.ReportMetric(float64(dumpRSS)/1024, "dump_peak_rss_MB")
	b.ReportMetric(float64(rows)/loadTime.Seconds(), "load_rows/s")
	b.ReportMetric(float64(rows)/readTime.Seconds(), "read_csv_rows/s")
	b.ReportMetric(readTime.Seconds()/loadTime.Seconds(), "load_vs_read_csv_x")
	b.ReportMetric(float64(loadRSS)/1024, "load_peak_rss_MB")
	b.ReportMetric(float64(readRSS)/1024, "read_csv_peak_rss_MB")
}

// runBin runs the binary and returns its wall time, peak RSS (KiB) and
// stdout. The RSS comes from /usr/bin/time: Linux carries ru_maxrss
// across fork and exec, so the rusage of a child forked from this (large)
// test process would report the test's own peak.
func runBin(b *testing.B, bin string, environ []string, args ...string) (time.Duration, int64, []byte) {
	rss := filepath.Join(b.TempDir(), "rss")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(b.Context(), "/usr/bin/time", append([]string{"-f", "%M", "-o", rss, bin}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = environ, &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("metricgate %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	return time.Since(t0), readRSS(b, rss), stdout.Bytes()
}

func readRSS(b *testing.B, path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Fields(string(data))
	n, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		b.Fatalf("/usr/bin/time wrote %q", data)
	}
	return n
}

func parseRows(out []byte) int64 {
	// "dump dumps/…: 14 tables, 123 rows, …"
	for line := range strings.Lines(string(out)) {
		if _, rest, ok := strings.Cut(line, " tables, "); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

// duckRead loads every table's files with DuckDB's read_csv (types
// detected) in a child process, for its time and RSS.
func duckRead(b *testing.B, dumps, db string) (time.Duration, int64) {
	manifests, err := filepath.Glob(filepath.Join(dumps, "dumps", "*", "*", dump.ManifestName))
	if err != nil || len(manifests) == 0 {
		b.Fatalf("no manifest under %s: %v", dumps, err)
	}
	rss := filepath.Join(b.TempDir(), "rss")
	cmd := exec.CommandContext(b.Context(), "/usr/bin/time", "-f", "%M", "-o", rss, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DUMP_BENCH_READ="+filepath.Dir(manifests[len(manifests)-1]), "DUMP_BENCH_DB="+db)
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("read_csv helper: %v\n%s", err, out)
	}
	return time.Since(t0), readRSS(b, rss)
}

// helperRead is the child of duckRead.
func helperRead() int {
	dir, path := os.Getenv("DUMP_BENCH_READ"), os.Getenv("DUMP_BENCH_DB")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = db.Close() }()
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv.gz"))
	tables := map[string][]string{}
	for _, f := range files {
		name, _, _ := strings.Cut(filepath.Base(f), ".")
		tables[name] = append(tables[name], "'"+f+"'")
	}
	for name, fs := range tables {
		q := fmt.Sprintf("CREATE TABLE %q AS SELECT * FROM read_csv([%s], header = true)", name, strings.Join(fs, ", "))
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			fmt.Fprintln(os.Stderr, name, err)
			return 1
		}
	}
	return 0
}
