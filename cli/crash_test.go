package cli

// Fault tests that need a process of their own: metricgate run killed
// with SIGKILL at random points (many seeds), run with a warehouse that
// cannot grow (RLIMIT_FSIZE), and two serve replicas, one killed while it
// holds the run lock. The test binary plays metricgate: it re-executes
// itself with -test.run=^TestFaultChild$ and the command in
// METRICGATE_FAULT_CHILD.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb", to fingerprint the dump's schema

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

const envFaultChild = "METRICGATE_FAULT_CHILD"

// faultChildSpec is what a child does.
type faultChildSpec struct {
	// Args is the command line (run …); with Schedule set, the config
	// file of a serve with that schedule and fastScheduler's waits.
	Args     []string
	Schedule string
	// FSize, when set, is the child's RLIMIT_FSIZE: no file it writes may
	// grow beyond it (SIGXFSZ is ignored, so writes fail with EFBIG).
	FSize uint64
}

// TestFaultChild is metricgate in a child process of the fault tests; run
// by the tests, it does nothing.
func TestFaultChild(t *testing.T) {
	spec := os.Getenv(envFaultChild)
	if spec == "" {
		return // not a child: nothing to do
	}
	os.Exit(faultChild(spec))
}

func faultChild(spec string) int {
	var cs faultChildSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintf(os.Stderr, "fault child: %s: %v\n", envFaultChild, err)
		return 2
	}
	if cs.FSize > 0 {
		signal.Ignore(syscall.SIGXFSZ)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: cs.FSize, Max: cs.FSize}); err != nil {
			fmt.Fprintf(os.Stderr, "fault child: setrlimit: %v\n", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if cs.Schedule != "" {
		cfg, err := loadConfig(cs.Args[0], nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		cfg.Schedule = cs.Schedule
		log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
		if err := serveWith(ctx, cfg, log, fastScheduler); err != nil {
			log.Error("serve", slog.String("error", err.Error()))
			return failCode(err)
		}
		return ExitOK
	}
	return run(ctx, cs.Args, &env{stdout: os.Stdout, stderr: os.Stderr})
}

// child is a metricgate child process.
type child struct {
	cmd    *exec.Cmd
	stdout strings.Builder
	log    *logWatch // stderr
	done   chan struct{}
	err    error
}

// startChild starts a child doing spec.
func startChild(t *testing.T, spec faultChildSpec) *child {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := &child{log: &logWatch{}, done: make(chan struct{})}
	c.cmd = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFaultChild$")
	c.cmd.Env = append(os.Environ(), envFaultChild+"="+string(b))
	c.cmd.Stderr = c.log
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	go func() {
		b, _ := io.ReadAll(out)
		mu.Lock()
		c.stdout.Write(b)
		mu.Unlock()
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// kill is SIGKILL; it returns once the child is gone.
func (c *child) kill() {
	_ = c.cmd.Process.Kill() // fails only when it exited already
	<-c.done
}

// wait waits for the child to exit and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the child did not exit:\n%s", c.log)
	}
	return c.cmd.ProcessState.ExitCode()
}

const (
	bigSQL   = "SELECT g, count(*) AS n FROM big GROUP BY g"
	bigQuery = "-- description: big\n-- owner: @pm\n-- group_size: n\n" + bigSQL + "\n"
	topSQL   = "SELECT count(DISTINCT actor) AS ks, count(*) AS actors FROM events"
	topQuery = "-- description: top\n-- owner: @pm\n-- group_size: actors\n-- load: replace\n" + topSQL + "\n"
)

var dayQueries = map[string]string{"a/actors.sql": goodQuery, "b/top.sql": topQuery, "c/big.sql": bigQuery}

// day0 is the first day the world's source is as of.
var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// newDayWorld is a fault world whose source says which day it is as of
// (table asof), with three queries: actors (append), top (replace), big
// (append, 2,000 rows).
func newDayWorld(t *testing.T) *faultWorld {
	t.Helper()
	w := newFaultWorld(t, dayQueries, worldOptions{})
	b, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "    url: "+withPassword(t, w.srcDSN)+"\n",
		"    url: "+withPassword(t, w.srcDSN)+"\n    as_of: (SELECT max(ts) FROM asof)\n    max_age: 100000h\n", 1)
	if err := os.WriteFile(w.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sqlExec(t, w.srcDSN, `CREATE TABLE asof (ts timestamptz);
		CREATE TABLE big AS SELECT g % 2000 AS g, g AS v FROM generate_series(1, 40000) g`)
	sqlExec(t, w.srcDSN, "INSERT INTO asof VALUES ($1)", day0)
	return w
}

// sqlExec runs sql on dsn.
func sqlExec(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dayState is what every table should hold: per table, the rows of each
// snapshot date (query columns, then the date).
type dayState map[string][][]any

// want reads the source's answers for day into s: append tables keep
// their other days, replace tables hold day's only.
func (s dayState) with(t *testing.T, srcDSN string, day time.Time) dayState {
	t.Helper()
	out := dayState{}
	for _, tc := range []struct {
		table, sql string
		replace    bool
	}{{"actors", actorsSQL, false}, {"top", topSQL, true}, {"big", bigSQL, false}} {
		if !tc.replace {
			for _, r := range s[tc.table] {
				if !r[len(r)-1].(time.Time).Equal(day) {
					out[tc.table] = append(out[tc.table], r)
				}
			}
		}
		for _, r := range expected(t, srcDSN, tc.sql) {
			out[tc.table] = append(out[tc.table], append(r, day))
		}
	}
	return out
}

// diff describes how the warehouse's table differs from s's, "" when it
// holds exactly those rows.
func (s dayState) diff(table string, got *warehouse.Table) string {
	if got == nil {
		if len(s[table]) == 0 {
			return ""
		}
		return "missing"
	}
	proj := warehousetest.Project(got, append(warehousetest.QueryColumns(got), "_snapshot_date")...)
	return warehousetest.Diff(&warehouse.Table{Columns: proj.Columns, Rows: s[table]}, proj)
}

var dayTables = []string{"actors", "top", "big"}

// changeSource changes every query's answer: more actors, other groups.
func changeSource(t *testing.T, dsn string, i int) {
	t.Helper()
	sqlExec(t, dsn, "INSERT INTO events SELECT k, 100 + $1::int * 50 + a FROM generate_series(1, 20) k, generate_series(1, 12) a", i)
	sqlExec(t, dsn, "UPDATE big SET g = g + 2000 WHERE v % 7 = $1::int % 7", i)
}

// copyFile copies the warehouse file (DuckDB checkpoints on close: no WAL
// is left) to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src + ".wal"); err == nil {
		t.Fatalf("%s.wal exists: the warehouse was not closed cleanly", src)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFaultRunKilled kills metricgate run with SIGKILL at 12 random points
// of a run (seeded): after each kill every table holds either its
// previous complete state (an older day kept, this day's previous slice)
// or the new result, never a mix, a duplicate or a loss; after a rerun,
// exactly the new result.
func TestFaultRunKilled(t *testing.T) {
	t.Parallel()
	w := newDayWorld(t)
	var prev dayState
	prev = prev.with(t, w.srcDSN, day0)
	if code, out, errOut := w.run("run", "--once"); code != ExitOK {
		t.Fatalf("day 0: exit %d\n%s%s", code, out, errOut)
	}
	day1 := day0.AddDate(0, 0, 1)
	sqlExec(t, w.srcDSN, "UPDATE asof SET ts = $1", day1)
	changeSource(t, w.srcDSN, 0)
	prev = prev.with(t, w.srcDSN, day1)
	start := time.Now()
	if code, out, errOut := w.run("run", "--once"); code != ExitOK {
		t.Fatalf("day 1: exit %d\n%s%s", code, out, errOut)
	}
	runTime := time.Since(start)
	got := readWarehouse(t, "duckdb://"+w.wh, dayTables...)
	for _, table := range dayTables {
		if d := prev.diff(table, got[table]); d != "" {
			t.Fatalf("day 1, %s:\n%s", table, d)
		}
	}
	base := w.wh + ".day1"
	copyFile(t, w.wh, base)

	// Day 1 again, on a changed source: the run each child makes.
	changeSource(t, w.srcDSN, 1)
	next := prev.with(t, w.srcDSN, day1)
	for seed := range 12 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		at := time.Duration(rng.Int64N(int64(runTime)))
		copyFile(t, base, w.wh)
		c := startChild(t, faultChildSpec{Args: []string{"run", "--once", "--verbose", "--config", w.config}})
		c.log.wait(t, "msg=\"run started\"", 1)
		time.Sleep(at) // the kill point
		c.kill()
		loaded := strings.Count(c.log.String(), "msg=\"query succeeded\"")
		got := readWarehouse(t, "duckdb://"+w.wh, dayTables...)
		for _, table := range dayTables {
			if dPrev := prev.diff(table, got[table]); dPrev != "" {
				if dNext := next.diff(table, got[table]); dNext != "" {
					t.Errorf("seed %d (killed %s into the run, %d queries loaded): %s is neither its previous state nor the new one; against the previous:\n%s",
						seed, at, loaded, table, dPrev)
				}
			}
		}
		if code, out, errOut := w.run("run", "--once"); code != ExitOK {
			t.Fatalf("seed %d: the rerun: exit %d\n%s%s", seed, code, out, errOut)
		}
		got = readWarehouse(t, "duckdb://"+w.wh, dayTables...)
		for _, table := range dayTables {
			if d := next.diff(table, got[table]); d != "" {
				t.Errorf("seed %d: after the rerun, %s:\n%s", seed, table, d)
			}
		}
		t.Logf("seed %d: killed %s into the run (a whole run takes %s), %d queries loaded", seed, at.Round(time.Millisecond),
			runTime.Round(time.Millisecond), loaded)
	}
}

// TestFaultWarehouseFull runs metricgate run with a warehouse file that
// cannot grow (RLIMIT_FSIZE at its current size): the load that needs
// more room fails with a message that says so, the tables keep their
// previous state, and the next run, with room, loads the new result.
func TestFaultWarehouseFull(t *testing.T) {
	t.Parallel()
	w := newDayWorld(t)
	var prev dayState
	prev = prev.with(t, w.srcDSN, day0)
	if code, out, errOut := w.run("run", "--once"); code != ExitOK {
		t.Fatalf("day 0: exit %d\n%s%s", code, out, errOut)
	}
	day1 := day0.AddDate(0, 0, 1)
	sqlExec(t, w.srcDSN, "UPDATE asof SET ts = $1", day1)
	// Ten times the rows for big.
	sqlExec(t, w.srcDSN, "INSERT INTO big SELECT 2000 + g % 20000, g FROM generate_series(1, 200000) g")
	next := prev.with(t, w.srcDSN, day1)
	info, err := os.Stat(w.wh)
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, faultChildSpec{Args: []string{"run", "--once", "--config", w.config}, FSize: uint64(info.Size())})
	code := c.wait(t)
	out := c.stdout.String()
	if code != ExitProblems || !strings.Contains(strings.ToLower(out+c.log.String()), "too large") {
		t.Fatalf("run with a full warehouse: exit %d, want %d and an error saying the file is too large:\n%s\n%s", code, ExitProblems, out, c.log)
	}
	got := readWarehouse(t, "duckdb://"+w.wh, dayTables...)
	for _, table := range dayTables {
		line := ""
		for l := range strings.SplitSeq(out, "\n") {
			if strings.HasPrefix(l, table+" ") {
				line = l
			}
		}
		failed := !strings.Contains(line, "succeeded")
		want := next
		if failed {
			want = prev
		}
		if d := want.diff(table, got[table]); d != "" {
			t.Errorf("%s (%s) after the full warehouse:\n%s", table, line, d)
		}
		t.Logf("with the full warehouse: %s", line)
	}
	if code, out, errOut := w.run("run", "--once"); code != ExitOK {
		t.Fatalf("the run with room: exit %d\n%s%s", code, out, errOut)
	}
	got = readWarehouse(t, "duckdb://"+w.wh, dayTables...)
	for _, table := range dayTables {
		if d := next.diff(table, got[table]); d != "" {
			t.Errorf("%s after the run with room:\n%s", table, d)
		}
	}
}

// TestFaultReplicaKilledHoldingTheLock starts two serve replicas on one
// history (schedule @every 3s) and kills the one making a run (holding
// the run lock) with SIGKILL: the other makes a run within one period,
// the killed one's run is marked failed (abandoned), not left running,
// and the tables hold the source's result once.
func TestFaultReplicaKilledHoldingTheLock(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/slow.sql": slowQuery}, worldOptions{})
	// One DuckDB file takes one process: the replicas share a PostgreSQL warehouse.
	whURL := pgtest.New(t)
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.config, []byte(strings.Replace(string(cfg), "duckdb://"+w.wh, whURL, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := faultChildSpec{Args: []string{w.config}, Schedule: "@every 3s"}
	a, b := startChild(t, spec), startChild(t, spec)
	// Whoever makes the catch-up run holds the lock while the slow query
	// runs. Its "run started" line was written before the query started,
	// but it reaches this process through a pipe and a copying goroutine,
	// which a busy machine can leave behind the query: wait for the line
	// rather than expect it there already (that flaked under load).
	waitActive(t, w.srcDSN, "events c")
	var holder, other *child
	select {
	case <-waitChan(a.log, `"msg":"run started"`):
		holder, other = a, b
	case <-waitChan(b.log, `"msg":"run started"`):
		holder, other = b, a
	case <-time.After(time.Minute):
		t.Fatalf("neither replica is making the run:\n%s\n%s", a.log, b.log)
	}
	if strings.Contains(other.log.String(), `"msg":"run started"`) {
		t.Fatalf("both replicas started a run:\n%s\n%s", a.log, b.log)
	}
	holder.kill()
	killed := time.Now()
	line := other.log.wait(t, `"msg":"run finished"`, 1)
	var rec struct{ Time time.Time }
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	started := other.log.wait(t, `"msg":"run started"`, 1)
	var st struct{ Time time.Time }
	if err := json.Unmarshal([]byte(started), &st); err != nil {
		t.Fatal(err)
	}
	if took := st.Time.Sub(killed); took > 3*time.Second+time.Second {
		t.Errorf("the other replica started a run %s after the kill; want within the period (3s)", took)
	}
	_ = other.cmd.Process.Signal(syscall.SIGTERM)
	if code := other.wait(t); code != ExitOK {
		t.Errorf("the other replica exited %d:\n%s", code, other.log)
	}
	runs, qrs := historyRuns(t, w.histDSN)
	if len(runs) < 2 || runs[0].Status != history.RunFailed || runs[0].Error != runner.AbandonedReason {
		t.Errorf("the killed replica's run is not marked abandoned:\n%s", describeRuns(runs, qrs))
	}
	for _, r := range runs[1:] {
		if r.Status == history.RunRunning || r.Status == history.RunFailed {
			t.Errorf("run %d: %s %q", r.ID, r.Status, r.Error)
		}
	}
	got := readWarehouse(t, whURL, "actors", "slow")
	checkTable(t, "actors", got["actors"], expected(t, w.srcDSN, actorsSQL))
	checkTable(t, "slow", got["slow"], expected(t, w.srcDSN, slowSQL))
}

// dumpFingerprints returns, per table of the schema gitlab_public of the
// DuckDB file at path, its row count and an order-independent hash of its
// rows ("" for a missing table); for the ledger (metricgate_ledger), the
// dump it says the schema holds (its last entry's location: every load
// adds an entry, so its rows differ from load to load).
func dumpFingerprints(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.QueryContext(t.Context(), "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gitlab_public' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range tables {
		if name == dump.LedgerTable {
			var held string
			if err := db.QueryRowContext(t.Context(), `SELECT location FROM gitlab_public.metricgate_ledger ORDER BY seq DESC LIMIT 1`).Scan(&held); err != nil {
				t.Fatal(err)
			}
			out[name] = "holds " + held
			continue
		}
		var n int64
		var sum sql.NullString
		if err := db.QueryRowContext(t.Context(), fmt.Sprintf(`SELECT count(*), sum(hash(t))::VARCHAR FROM gitlab_public.%q t`, name)).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[name] = fmt.Sprintf("%d rows, hash %s", n, sum.String)
	}
	return out
}

// TestFaultLoadKilled kills metricgate load with SIGKILL at 12 random
// points (seeded) of the load of a new dump over a loaded one (five
// tables of dump.yml, namespaces … issues): after each
// kill the schema holds the previous dump or the new one, all its tables
// and its ledger entry together, never a mix (never the new tables with a
// ledger that says the previous dump, nor the reverse); after a rerun of
// the load, the new one.
func TestFaultLoadKilled(t *testing.T) {
	t.Parallel()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(t.Context(), pgtest.Connect(t, src), gitlabfake.Options{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dumpYML, err := os.ReadFile("../dump.yml")
	if err != nil {
		t.Fatal(err)
	}
	// The first five tables (namespaces … issues) keep the loads short.
	cut, _, ok := strings.Cut(string(dumpYML), "\n  issue_metrics:")
	if !ok {
		t.Fatal("dump.yml has no issue_metrics table")
	}
	if err := os.WriteFile(filepath.Join(dir, "dump.yml"), []byte(cut+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(dir, "w.duckdb")
	config := writeConfig(t, "sources:\n  main:\n    url: "+src+"\nhistory:\n  url: "+pgtest.New(t)+"\nwarehouse:\n  url: duckdb://"+wh+
		"\ndump:\n  config: "+filepath.Join(dir, "dump.yml")+"\n  storage_url: file://"+filepath.Join(dir, "dumps")+"?create_dir=true\n"+
		"  pseudonym_key: fault-test-pseudonym-key-0123456789\n")
	cmd := func(environ []string, args ...string) {
		t.Helper()
		var out, errOut strings.Builder
		if code := run(t.Context(), append(args, "--config", config), &env{stdout: &out, stderr: &errOut, environ: environ}); code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errOut.String())
		}
	}
	cmd(nil, "dump")
	cmd(nil, "load")
	prev := dumpFingerprints(t, wh)
	base := wh + ".prev"
	copyFile(t, wh, base)

	// The next day: issues closed, others gone, a dump of that.
	sqlExec(t, src, "UPDATE issues SET state_id = 2, closed_at = now() WHERE id % 5 = 0")
	sqlExec(t, src, "DELETE FROM issue_metrics WHERE issue_id % 3 = 0")
	sqlExec(t, src, "DELETE FROM issues WHERE id % 3 = 0 AND id NOT IN (SELECT issue_id FROM merge_requests_closing_issues)")
	cmd(nil, "dump")
	ref := wh + ".ref"
	copyFile(t, base, ref)
	start := time.Now()
	// --force: every load below loads the new dump, though the ledger
	// says it is loaded once one of them finished.
	cmd([]string{"METRICGATE_WAREHOUSE_URL=duckdb://" + ref}, "load", "--force")
	loadTime := time.Since(start)
	next := dumpFingerprints(t, ref)
	if fmt.Sprint(prev) == fmt.Sprint(next) || len(next) != 6 || prev[dump.LedgerTable] == next[dump.LedgerTable] {
		t.Fatalf("the dumps do not differ, or hold few tables:\n%v\n%v", prev, next)
	}

	same := func(got, want map[string]string) bool { return fmt.Sprint(got) == fmt.Sprint(want) }
	outcomes := map[string]int{}
	for seed := range 12 {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		at := time.Duration(rng.Int64N(int64(loadTime)))
		copyFile(t, base, wh)
		c := startChild(t, faultChildSpec{Args: []string{"load", "--force", "--verbose", "--config", config}})
		c.log.wait(t, "loading dump", 1)
		time.Sleep(at) // the kill point
		c.kill()
		got := dumpFingerprints(t, wh)
		switch {
		case same(got, prev):
			outcomes["previous"]++
		case same(got, next):
			outcomes["new"]++
		default:
			for name := range next {
				if got[name] != prev[name] && got[name] != next[name] {
					t.Errorf("seed %d (killed %s in): table %s: %s; previous %s, new %s", seed, at, name, got[name], prev[name], next[name])
				}
			}
			t.Errorf("seed %d (killed %s in): the schema is neither the previous dump nor the new one", seed, at)
		}
		cmd(nil, "load", "--force")
		if got := dumpFingerprints(t, wh); !same(got, next) {
			t.Errorf("seed %d: after the rerun of the load the schema is not the new dump:\n%v\n%v", seed, got, next)
		}
	}
	t.Logf("12 kills within the %s a load takes: %v", loadTime.Round(time.Millisecond), outcomes)
}
