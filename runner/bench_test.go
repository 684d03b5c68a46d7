//go:build !no_duckdb

package runner_test

// The daily run's benchmarks (make bench). Each one measures the runner and
// a reference on the same data in the same run, and reports the ratio; none
// of them asserts a time. Every benchmark fails (b.Fatal) when the run it
// measures did not load the rows it should have, so a fast broken run is
// never reported as a fast run.
//
//	go test -run='^$' -bench=. -benchtime=1x ./runner
//
// -benchtime=1x makes one measured iteration each: BenchmarkExamples and
// BenchmarkQueryOverhead warm up once before measuring, and
// BenchmarkPeakRSS measures child processes, for which more iterations add
// nothing but time. Without it the benchmarks still work (b.Loop repeats
// the measured part for about a second; setup is never repeated). The
// ns/op column is the whole measured iteration (for BenchmarkExamples and
// BenchmarkQueryOverhead the runner and psql together); the custom metrics
// are the numbers to read.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/coarse"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	examples "gitlab.com/metricgate/metricgate/queries"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schema"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
)

// benchScale is the gitlabfake scale of BenchmarkExamples: about 1.5
// million rows, loaded in about 10 s on 2 cores, enough for the example
// queries to take real time (hundreds of milliseconds each) rather than
// measure connection setup only.
const benchScale = 10

// BenchmarkExamples runs every example query of queries/ through the
// runner, into a DuckDB warehouse file with the real history store, and the
// same queries through psql one after another, on the same gitlabfake
// database, each iteration. It reports:
//
//   - runner-s/op: wall time of one runner.Run of all the queries, with the
//     production defaults (2 workers, one exported snapshot, EXPLAIN, the
//     group-size filter, the DuckDB load, history records);
//   - psql-s/op: wall time of running each query's text once with
//     `psql -X -q -At -c TEXT -o /dev/null`, one after another, a new psql
//     process and connection per query;
//   - ratio-vs-psql: runner-s/op / psql-s/op; below 1 the runner is faster;
//   - queries: how many queries one op runs.
//
// The two do not do the same work. psql only formats the rows into
// /dev/null; the runner also runs EXPLAIN, checks the result's types,
// filters every row by min_group_size, loads the kept rows into DuckDB
// (staging table plus one transaction per query) and records every query
// run in the history database, but it runs two queries at a time where psql
// runs one. The ratio is the price of all that as an operator sees it: how
// much longer the daily run takes than running the SQL by hand.
func BenchmarkExamples(b *testing.B) {
	ctx := b.Context()
	psql := psqlPath(b)
	cat, err := catalog.Load(examples.FS, catalog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	qs := cat.Queries

	sourceDSN := pgtest.New(b)
	source := pgtest.Connect(b, sourceDSN)
	stats, err := gitlabfake.Load(ctx, source, gitlabfake.Options{Scale: benchScale})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("gitlabfake scale %d: %d rows loaded in %s", benchScale, stats.Total(), stats.Duration.Round(time.Millisecond))
	want := expectRows(b, source, qs)
	r := benchRunner(b, sourceDSN)

	perQuery := map[string]time.Duration{} // runner's time per query, over the measured runs
	perPsql := map[string]time.Duration{}  // psql's time per query, over the measured runs
	runAll := func(measure bool) (runnerTime, psqlTime time.Duration) {
		start := time.Now()
		res, err := r.Run(ctx, runner.Options{Trigger: "bench", Queries: qs})
		runnerTime = time.Since(start)
		checkRun(b, res, err, want)
		for _, qr := range res.Queries {
			if measure {
				perQuery[qr.Query] += qr.Duration
			}
		}
		start = time.Now()
		for _, q := range qs {
			d := runPsql(b, psql, sourceDSN, q.Text)
			if measure {
				perPsql[q.Name] += d
			}
		}
		return runnerTime, time.Since(start)
	}
	// Warm up: the first run creates the warehouse tables and brings the
	// source's tables into PostgreSQL's and the kernel's caches, for both.
	runAll(false)

	var runnerTotal, psqlTotal time.Duration
	for b.Loop() {
		rt, pt := runAll(true)
		runnerTotal += rt
		psqlTotal += pt
	}
	n := float64(b.N)
	b.ReportMetric(runnerTotal.Seconds()/n, "runner-s/op")
	b.ReportMetric(psqlTotal.Seconds()/n, "psql-s/op")
	b.ReportMetric(runnerTotal.Seconds()/psqlTotal.Seconds(), "ratio-vs-psql")
	b.ReportMetric(float64(len(qs)), "queries")

	// Where the time goes, query by query: the runner's own record of each
	// query (EXPLAIN, query, filter and load, on one of two workers) next
	// to psql's wall time for it, with the rows kept and dropped. go test
	// shows only the first lines of a benchmark's log unless run with -v.
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\trunner ms\tpsql ms\tkept\tdropped\t")
	for _, q := range qs {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%d\t%d\t\n", q.Name, ms(perQuery[q.Name])/n, ms(perPsql[q.Name])/n,
			want[q.Name].kept, want[q.Name].dropped)
	}
	_ = tw.Flush()
	b.Logf("per query (mean of %d runs):\n%s", b.N, buf.String())
}

// overheadQueries is how many trivial queries BenchmarkQueryOverhead runs.
const overheadQueries = 20

// BenchmarkQueryOverhead measures what the runner adds to each query, on
// queries that cost the database nothing: a run of 20 distinct queries
// `SELECT count(*) AS actors FROM t` on a 10-row table (one result row,
// with a group size of 10, which the filter keeps), into DuckDB with the
// real history store, and the same 20 through psql one after another. It
// reports:
//
//   - overhead-ms/query: the runner's wall time for the run divided by
//     20: per query, its transaction on the snapshot, EXPLAIN, the load
//     into DuckDB (staging table, one transaction) and two history writes,
//     two queries at a time; plus, spread over the 20, the run's fixed
//     cost (run record, approval, guard checks, the coordinator's snapshot);
//   - psql-ms/query: psql's wall time per query: a process start, a
//     connection and the query;
//   - ratio-vs-psql: overhead-ms/query / psql-ms/query.
func BenchmarkQueryOverhead(b *testing.B) {
	ctx := b.Context()
	psql := psqlPath(b)
	sourceDSN := pgtest.New(b)
	source := pgtest.Connect(b, sourceDSN)
	if _, err := source.Exec(ctx, `CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 10) g; ANALYZE t`); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{}
	for i := range overheadQueries {
		files[fmt.Sprintf("trivial_%02d", i+1)] = query(`SELECT count(*) AS actors FROM t`)
	}
	qs := benchCatalog(b, files)
	want := expectRows(b, source, qs)
	for name, w := range want {
		if w.kept != 1 {
			b.Fatalf("%s: keeps %d rows, want 1", name, w.kept)
		}
	}
	r := benchRunner(b, sourceDSN)

	runAll := func() (runnerTime, psqlTime time.Duration) {
		start := time.Now()
		res, err := r.Run(ctx, runner.Options{Trigger: "bench", Queries: qs})
		runnerTime = time.Since(start)
		checkRun(b, res, err, want)
		start = time.Now()
		for _, q := range qs {
			runPsql(b, psql, sourceDSN, q.Text)
		}
		return runnerTime, time.Since(start)
	}
	runAll() // warm up: creates the 20 warehouse tables

	var runnerTotal, psqlTotal time.Duration
	for b.Loop() {
		rt, pt := runAll()
		runnerTotal += rt
		psqlTotal += pt
	}
	perQuery := float64(b.N * overheadQueries)
	b.ReportMetric(ms(runnerTotal)/perQuery, "overhead-ms/query")
	b.ReportMetric(ms(psqlTotal)/perQuery, "psql-ms/query")
	b.ReportMetric(runnerTotal.Seconds()/psqlTotal.Seconds(), "ratio-vs-psql")
}

// rssSizes are the result sizes of BenchmarkPeakRSS, in rows.
var rssSizes = []int{100_000, 300_000, 1_000_000}

// BenchmarkPeakRSS runs `metricgate run --once` as a child process, built
// from this checkout, on one query whose result has N rows (100k, 300k,
// 1M), every one of them kept by the group-size filter and loaded into a
// fresh DuckDB file, and reads the child's peak resident set size from the
// kernel (ru_maxrss of the waited child, through TestPeakRSSHelper). The result is made by
// generate_series, so no big table is needed and the source's work is the
// same kind at every size. It reports:
//
//   - peak-MB-100k, peak-MB-300k, peak-MB-1M: the child's peak RSS in MiB
//     (the whole process: Go heap, DuckDB's C++ allocations, the binary);
//     the target is ≤ 150 for 1M rows;
//   - growth-MB-per-100k-rows: the least-squares slope of peak RSS over
//     the three sizes; about 0 when memory does not grow with the result
//     (DESIGN.md: rows are streamed);
//   - rows/s-1M: rows loaded per second of the 1M-row query, by the
//     duration the run table prints (source to warehouse, not process
//     start).
//
// It also logs, per size, the child's wall time and its largest Go heap
// (from GODEBUG=gctrace=1), which tells Go's memory apart from DuckDB's:
// the rest of the RSS is DuckDB, the runtime and the binary's own pages.
func BenchmarkPeakRSS(b *testing.B) {
	bin := buildMetricgate(b)
	sourceDSN, historyDSN := pgtest.New(b), pgtest.New(b)
	peaks := make([]float64, len(rssSizes))
	anon := make([]float64, len(rssSizes))
	var rate float64
	for b.Loop() {
		for i, n := range rssSizes {
			m := peakRSSRun(b, bin, sourceDSN, historyDSN, n)
			peaks[i], anon[i] = m.peakMiB, m.anonMiB
			if n == 1_000_000 {
				rate = float64(n) / m.query.Seconds()
			}
			b.Logf("%8d rows: peak RSS %6.1f MiB, of it anonymous %6.1f MiB (helper %.1f MiB), Go heap at most %d MiB, query %s, process %s",
				n, m.peakMiB, m.anonMiB, m.helperMiB, m.goHeapMiB, m.query.Round(time.Millisecond), m.wall.Round(time.Millisecond))
		}
	}
	for i, n := range rssSizes {
		b.ReportMetric(peaks[i], fmt.Sprintf("peak-MB-%s", sizeLabel(n)))
	}
	b.ReportMetric(slope(rssSizes, peaks)*100_000, "growth-MB-per-100k-rows")
	for i, n := range rssSizes {
		b.ReportMetric(anon[i], fmt.Sprintf("anon-MB-%s", sizeLabel(n)))
	}
	b.ReportMetric(slope(rssSizes, anon)*100_000, "anon-growth-MB-per-100k-rows")
	b.ReportMetric(rate, "rows/s-1M")
}

// rssRun is what one metricgate child did.
type rssRun struct {
	peakMiB   float64       // ru_maxrss
	anonMiB   float64       // the largest RssAnon sampled
	helperMiB float64       // the helper's VmHWM: the floor of peakMiB
	goHeapMiB int           // largest heap size gctrace printed
	query     time.Duration // the query's duration in the run table
	wall      time.Duration // the process's wall time
}

// peakRSSRun runs metricgate on one query of n rows into a new DuckDB file
// and checks that n rows were loaded.
func peakRSSRun(b *testing.B, bin, sourceDSN, historyDSN string, n int) rssRun {
	b.Helper()
	dir := b.TempDir()
	queryDir := filepath.Join(dir, "queries")
	if err := os.Mkdir(queryDir, 0o755); err != nil {
		b.Fatal(err)
	}
	// Every group counts 10 rows of the cross join: each of the n rows has
	// n = 10, at min_group_size, and is kept.
	sql := fmt.Sprintf(`-- description: bench
-- owner: @bench
-- group_size: n
-- max_rows: 2000000
-- timeout: 30m
SELECT g AS k, count(*) AS n, sum(r) AS s FROM generate_series(1, %d) g, generate_series(1, 10) r GROUP BY g
`, n)
	if err := os.WriteFile(filepath.Join(queryDir, "bench_rows.sql"), []byte(sql), 0o644); err != nil {
		b.Fatal(err)
	}
	whPath := filepath.Join(dir, "w.duckdb")
	config := fmt.Sprintf("sources:\n  main:\n    url: %q\nhistory:\n  url: %q\nwarehouse:\n  url: %q\nqueries:\n  dir: %q\n  approval: none\n",
		sourceDSN, historyDSN, "duckdb://"+whPath, queryDir)
	configPath := filepath.Join(dir, "metricgate.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}

	// The child is started by a fresh copy of this test binary (see
	// TestPeakRSSHelper), not by this process: Linux counts in a child's
	// ru_maxrss the RSS of the process it was forked from at exec time, and
	// this process, with DuckDB and the other benchmarks' data in it, can
	// be bigger than the child.
	helperDir := filepath.Join(dir, "helper")
	if err := os.Mkdir(helperDir, 0o755); err != nil {
		b.Fatal(err)
	}
	helper := exec.CommandContext(b.Context(), os.Args[0], "-test.run=^TestPeakRSSHelper$", "-test.count=1")
	helper.Env = append(childEnv(), rssHelperEnv+"="+helperDir)
	helper.Dir = dir
	if err := os.WriteFile(filepath.Join(helperDir, "args"), []byte(strings.Join([]string{bin, "run", "--once", "--config", configPath}, "\n")), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := helper.CombinedOutput(); err != nil {
		b.Fatalf("start metricgate through the helper: %v\n%s", err, out)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(helperDir, name))
		if err != nil {
			b.Fatal(err)
		}
		return string(data)
	}
	stdout, stderr := read("stdout"), read("stderr")
	var maxrssKiB, helperKiB, wallNS, anonKiB int64
	if _, err := fmt.Sscanf(read("result"), "%d %d %d %d", &maxrssKiB, &helperKiB, &wallNS, &anonKiB); err != nil {
		b.Fatalf("helper result: %v", err)
	}
	wall := time.Duration(wallNS)
	if exitErr := read("error"); exitErr != "" {
		b.Fatalf("metricgate run (%d rows): %s\nstdout:\n%s\nstderr:\n%s", n, exitErr, stdout, lastLines(stderr, 20))
	}
	if helperKiB >= maxrssKiB {
		// The child's ru_maxrss starts at the helper's RSS when it execs.
		b.Fatalf("the helper's own peak RSS (%d KiB) is not below the child's (%d KiB): the measure is only an upper bound", helperKiB, maxrssKiB)
	}

	// The run table says what the run loaded; the warehouse must agree.
	row, err := runTableRow(stdout, "bench_rows")
	if err != nil {
		b.Fatalf("%d rows: %v\nstdout:\n%s", n, err, stdout)
	}
	if row.status != "succeeded" || row.rows != int64(n) || row.suppressed != 0 {
		b.Fatalf("%d rows: the run table says %s, %d rows, %d suppressed; want succeeded, %d, 0\n%s",
			n, row.status, row.rows, row.suppressed, n, stdout)
	}
	if got := countTable(b, whPath, "bench_rows"); got != int64(n) {
		b.Fatalf("%d rows: the warehouse table bench_rows has %d rows", n, got)
	}
	return rssRun{peakMiB: float64(maxrssKiB) / 1024, helperMiB: float64(helperKiB) / 1024, anonMiB: float64(anonKiB) / 1024,
		goHeapMiB: maxGCHeap(stderr), query: row.duration, wall: wall}
}

// vmHWM is this process's peak RSS in KiB, from /proc/self/status.
func vmHWM() (int64, error) { return statusField("/proc/self/status", "VmHWM:") }

// statusField reads a "Name:   123 kB" field of a /proc/PID/status file, in KiB.
func statusField(path, name string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, name); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in %s", name, path)
}

// rssHelperEnv names the directory TestPeakRSSHelper works in.
const rssHelperEnv = "RUNNER_BENCH_RSS_HELPER"

// TestPeakRSSHelper is not a test: BenchmarkPeakRSS runs this test binary
// again with only this test and rssHelperEnv set, so that metricgate is
// started by a small process whose own RSS cannot leak into the child's
// ru_maxrss. It runs the command in DIR/args (one argument a line), with
// its output in DIR/stdout and DIR/stderr, and writes "MAXRSS_KIB
// HELPER_MAXRSS_KIB WALL_NS" to DIR/result and the command's error, if
// any, to DIR/error. Without rssHelperEnv it does nothing.
func TestPeakRSSHelper(t *testing.T) {
	dir := os.Getenv(rssHelperEnv)
	if dir == "" {
		return
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	argv := strings.Split(string(args), "\n")
	// The helper's own peak, from its memory map (VmHWM): its ru_maxrss
	// has the same flaw as the child's would have had.
	selfKiB, err := vmHWM()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd := exec.CommandContext(t.Context(), argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	// ru_maxrss counts the binary's code pages too (about 100 MiB of a
	// 190 MB binary are mapped at start-up); the anonymous part (heap,
	// DuckDB's buffers, stacks) is what a result can grow, sampled from
	// /proc every 5 ms while the child runs.
	var anonPeakKiB int64
	runErr := cmd.Start()
	if runErr == nil {
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				if kib, err := statusField(status, "RssAnon:"); err == nil {
					anonPeakKiB = max(anonPeakKiB, kib)
				}
				select {
				case <-done:
					return
				case <-tick.C:
				}
			}
		}()
		runErr = cmd.Wait()
		close(done)
		<-sampled
	}
	wall := time.Since(start)
	var errText string
	if runErr != nil {
		errText = runErr.Error()
	}
	var maxrss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxrss = ru.Maxrss // KiB on Linux
	} else {
		errText += fmt.Sprintf("; no rusage on this system (%T)", cmd.ProcessState.SysUsage())
	}
	result := fmt.Sprintf("%d %d %d %d\n", maxrss, selfKiB, wall.Nanoseconds(), anonPeakKiB)
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "result"), []byte(result), 0o644),
		os.WriteFile(filepath.Join(dir, "error"), []byte(errText), 0o644)); err != nil {
		t.Fatal(err)
	}
}

// childEnv is this process's environment without METRICGATE_* variables
// (which would override the config file), with the Go GC trace on.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "METRICGATE_") && !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	godebug := "gctrace=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + ",gctrace=1"
	}
	return append(env, "GODEBUG="+godebug)
}

// gcLine matches the heap sizes of a gctrace line: "4->5->1 MB".
var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// maxGCHeap returns the largest heap size (at the start or end of a cycle)
// of the gctrace lines in s, in MiB.
func maxGCHeap(s string) int {
	most := 0
	for _, m := range gcLine.FindAllStringSubmatch(s, -1) {
		for _, v := range m[1:3] {
			if n, _ := strconv.Atoi(v); n > most {
				most = n
			}
		}
	}
	return most
}

// runTableLine is one query's line of `metricgate run`'s table.
type runTableLine struct {
	status           string
	rows, suppressed int64
	duration         time.Duration
}

// runTableRow finds query's line in the run table: "query status rows
// suppressed duration note".
func runTableRow(out, query string) (runTableLine, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != query {
			continue
		}
		var l runTableLine
		var err1, err2, err3 error
		l.status = f[1]
		l.rows, err1 = strconv.ParseInt(f[2], 10, 64)
		l.suppressed, err2 = strconv.ParseInt(f[3], 10, 64)
		l.duration, err3 = time.ParseDuration(f[4])
		if err := errors.Join(err1, err2, err3); err != nil {
			return l, fmt.Errorf("run table line %q: %w", sc.Text(), err)
		}
		return l, nil
	}
	return runTableLine{}, fmt.Errorf("no line for %s in the run table", query)
}

// countTable counts the rows of table in the DuckDB file at path (after
// the child has closed it).
func countTable(b *testing.B, path, table string) int64 {
	b.Helper()
	w, err := duckdb.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	tables, err := w.Tables(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range tables {
		if t.Name == table {
			return t.Rows
		}
	}
	b.Fatalf("no table %s in %s", table, path)
	return 0
}

// buildMetricgate builds cmd/metricgate of this checkout into a temporary
// directory and returns the binary's path.
func buildMetricgate(b *testing.B) string {
	b.Helper()
	root, err := moduleRoot()
	if err != nil {
		b.Fatal(err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("building metricgate needs the go command in PATH: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "metricgate")
	cmd := exec.CommandContext(b.Context(), goTool, "build", "-o", bin, "./cmd/metricgate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/metricgate: %v\n%s", err, out)
	}
	return bin
}

// moduleRoot is the directory holding go.mod, above the package directory
// the test runs in.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the package directory")
		}
		dir = parent
	}
}

// expected is what a query's run must record: the rows the group-size
// filter keeps and drops.
type expected struct{ kept, dropped int64 }

// expectRows counts, straight on the source, the rows of each query's
// result at or above its min_group_size and below it.
func expectRows(b *testing.B, conn *pgx.Conn, qs []*catalog.Query) map[string]expected {
	b.Helper()
	want := map[string]expected{}
	for _, q := range qs {
		body := strings.TrimRight(strings.TrimSpace(q.Text), ";")
		sql := fmt.Sprintf("SELECT count(*) FILTER (WHERE q.%s >= $1), count(*) FILTER (WHERE q.%s < $1) FROM (\n%s\n) AS q",
			pgx.Identifier{q.GroupSize}.Sanitize(), pgx.Identifier{q.GroupSize}.Sanitize(), body)
		var e expected
		if err := conn.QueryRow(b.Context(), sql, q.MinGroupSize).Scan(&e.kept, &e.dropped); err != nil {
			b.Fatalf("count the rows of %s on the source: %v", q.Name, err)
		}
		want[q.Name] = e
	}
	return want
}

// checkRun fails b unless the run succeeded and every query kept and
// dropped the rows want says.
func checkRun(b *testing.B, res *runner.Result, err error, want map[string]expected) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	var problems []string
	if res.Status != history.RunSucceeded {
		problems = append(problems, fmt.Sprintf("run %d %s %s", res.RunID, res.Status, res.Error))
	}
	var total int64
	for _, qr := range res.Queries {
		w := want[qr.Query]
		total += qr.RowsLoaded
		if qr.Status != history.QuerySucceeded || qr.RowsLoaded != w.kept || qr.RowsSuppressed != coarse.Of(w.dropped) {
			problems = append(problems, fmt.Sprintf("%s: %s, %d rows loaded, %s suppressed (want %d and %s) %s",
				qr.Query, qr.Status, qr.RowsLoaded, qr.RowsSuppressed, w.kept, coarse.Of(w.dropped), qr.Error))
		}
	}
	if total == 0 {
		problems = append(problems, "the run loaded no row at all")
	}
	if len(problems) > 0 {
		b.Fatalf("the measured run did not load what it should:\n  %s", strings.Join(problems, "\n  "))
	}
}

// benchRunner is a runner over sourceDSN with production defaults, a DuckDB
// warehouse file in a temporary directory and a migrated history database.
func benchRunner(b *testing.B, sourceDSN string) *runner.Runner {
	b.Helper()
	return newBenchRunner(b, runner.Config{Sources: map[string]runner.Source{"main": {URL: sourceDSN}}}, shippedSchema())
}

// newBenchRunner is a runner with cfg and a guard on sc, a DuckDB warehouse
// file in a temporary directory and a migrated history database of its
// own.
func newBenchRunner(b *testing.B, cfg runner.Config, sc *schema.Catalog) *runner.Runner {
	b.Helper()
	ctx := b.Context()
	store, err := history.Open(ctx, pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	wh, err := duckdb.Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = wh.Close() })
	g, err := guard.New(guard.Config{Schema: sc})
	if err != nil {
		b.Fatal(err)
	}
	r, err := runner.New(cfg, runner.Deps{Guard: g, Writer: wh, Recorder: store, Approver: review.None{}})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// benchCatalog builds a catalog from name → file text.
func benchCatalog(b *testing.B, files map[string]string) []*catalog.Query {
	b.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name+".sql"] = &fstest.MapFile{Data: []byte(text)}
	}
	cat, err := catalog.Load(fsys, catalog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return cat.Queries
}

// psqlPath finds psql, the reference the benchmarks compare with.
func psqlPath(b *testing.B) string {
	b.Helper()
	p, err := exec.LookPath("psql")
	if err != nil {
		b.Fatalf("the benchmarks compare with psql, which is not in PATH: install it (apt-get install -y postgresql-client): %v", err)
	}
	return p
}

// runPsql runs text once through psql, rows to /dev/null, and returns the
// wall time, process start and connection included.
func runPsql(b *testing.B, psql, dsn, text string) time.Duration {
	b.Helper()
	cmd := exec.CommandContext(b.Context(), psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
		"-d", dsn, "-c", text, "-o", os.DevNull)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("psql: %v\n%s", err, out)
	}
	return d
}

// slope is the least-squares slope of ys over xs.
func slope(xs []int, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += float64(xs[i])
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var num, den float64
	for i := range xs {
		dx := float64(xs[i]) - mx
		num += dx * (ys[i] - my)
		den += dx * dx
	}
	return num / den
}

// sizeLabel writes 100000 as 100k and 1000000 as 1M.
func sizeLabel(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
