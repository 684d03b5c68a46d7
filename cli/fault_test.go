package cli

// Fault tests against a live metricgate serve (in this process) or run (a
// child process, see fault_child_test.go): the source restarted or its
// connection terminated in the middle of a query, the history database
// unreachable at a tick. Each checks the warehouse against the source,
// queried directly, with the group-size filter applied here.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schema"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// slowQuery takes half a second on the 210 rows of events: long enough
// to be hit in the middle.
const (
	slowSQL   = "SELECT a.k, count(*) AS actors FROM events a, events b, events c WHERE c.k <= 10 GROUP BY a.k"
	slowQuery = "-- description: slow\n-- owner: @pm\n-- group_size: actors\n" + slowSQL + "\n"
	actorsSQL = "SELECT k, count(DISTINCT actor) AS actors FROM events GROUP BY k"
)

// fastScheduler is the scheduler of the fault tests: it looks at the
// clock, retries and reruns within a second.
var fastScheduler = runner.SchedulerConfig{Recheck: 100 * time.Millisecond, RetryBackoff: 200 * time.Millisecond,
	MaxRetryBackoff: time.Second, RerunBackoff: 300 * time.Millisecond, ShutdownTimeout: 5 * time.Second}

// faultWorld is a run world whose source, and optionally history, are
// clusters of their own, so that a test can restart or stop them.
type faultWorld struct {
	*runWorld
	src     *pgtest.Cluster
	srcDSN  string
	hist    *pgtest.Cluster // nil: the history is on the shared cluster
	histDir string
	histDSN string
}

// startCluster starts a cluster in dir (kept by Stop, so that it can be
// started again on the same port) and stops it at cleanup.
func startCluster(t *testing.T, dir string, port int) *pgtest.Cluster {
	t.Helper()
	c, err := pgtest.Start(t.Context(), pgtest.Options{Dir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

// clusterDir is a directory for a cluster that the postgres user can reach
// (the tests may run as root), removed at cleanup.
func clusterDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "metricgate-fault-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return filepath.Join(d, "pg")
}

// worldOptions say which databases of a fault world get a cluster of
// their own (else they are databases of the shared cluster).
type worldOptions struct {
	ownSource, ownHistory bool
	extra                 string // appended to the config
}

func newFaultWorld(t *testing.T, files map[string]string, o worldOptions) *faultWorld {
	t.Helper()
	w := &faultWorld{runWorld: &runWorld{t: t}}
	if o.ownSource {
		w.src = startCluster(t, clusterDir(t), 0)
		if err := w.src.CreateDatabase(t.Context(), "gitlab"); err != nil {
			t.Fatal(err)
		}
		w.srcDSN = w.src.DSN("gitlab")
	} else {
		w.srcDSN = pgtest.New(t)
	}
	conn := pgtest.Connect(t, w.srcDSN)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE events (k int, actor int);
		INSERT INTO events SELECT k, a FROM generate_series(1, 20) k, generate_series(1, k) a`); err != nil {
		t.Fatal(err)
	}
	if o.ownHistory {
		w.histDir = clusterDir(t)
		w.hist = startCluster(t, w.histDir, 0)
		if err := w.hist.CreateDatabase(t.Context(), "metricgate"); err != nil {
			t.Fatal(err)
		}
		w.histDSN = w.hist.DSN("metricgate")
	} else {
		w.histDSN = pgtest.New(t)
	}
	dir := t.TempDir()
	w.queries, w.wh = filepath.Join(dir, "queries"), filepath.Join(dir, "w.duckdb")
	for name, text := range files {
		p := filepath.Join(w.queries, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.config = writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, w.srcDSN)+"\n"+
		"history:\n  url: "+withPassword(t, w.histDSN)+"\n"+
		"warehouse:\n  url: duckdb://"+w.wh+"\n"+
		"queries:\n  dir: "+w.queries+"\n  approval: none\n  workers: 1\n"+
		"guard:\n  schema: "+syntheticSchema(t)+"\n"+
		"api:\n  listen: 127.0.0.1:0\n  allow_unauthenticated_runs: true\n"+o.extra)
	return w
}

// serveTuned starts serve in this process with the given schedule and
// scheduler settings, and waits until it serves.
func serveTuned(t *testing.T, config, schedule string, sc runner.SchedulerConfig) *serving {
	t.Helper()
	cfg, err := loadConfig(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schedule = schedule
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{t: t, log: &logWatch{}, cancel: cancel, code: make(chan int, 1)}
	log := slog.New(slog.NewJSONHandler(s.log, nil))
	go func() {
		code := ExitOK
		if err := serveWith(ctx, cfg, log, sc); err != nil {
			log.Error("serve", slog.String("error", err.Error()))
			code = failCode(err)
		}
		s.code <- code
	}()
	t.Cleanup(func() {
		cancel()
		code := <-s.code
		s.code <- code
	})
	s.ready()
	return s
}

// expected is what a run must load for sql on the source: the guard's
// rewrite run directly (synthetic catalog), the rows at least 10 people
// stand behind, their visible columns.
func expected(t *testing.T, srcDSN, sql string) [][]any {
	t.Helper()
	cat, err := schema.Load(os.DirFS("testdata"), "synthetic_schema.yml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(guard.Config{Schema: cat})
	if err != nil {
		t.Fatal(err)
	}
	an, vs := g.Check(sql, "")
	if len(vs) > 0 {
		t.Fatalf("%s: %v", sql, vs)
	}
	conn := pgtest.Connect(t, srcDSN)
	rows, err := conn.Query(t.Context(), an.SQL(10))
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		t.Fatal(err)
	}
	var kept [][]any
	filter := &guard.EntityFilter{Min: 10}
	for _, r := range all {
		keep, err := filter.Keep(r[len(an.Columns):])
		if err != nil {
			t.Fatal(err)
		}
		if !keep {
			continue
		}
		r = r[:len(an.Columns)]
		for i, v := range r { // DuckDB widens integers
			switch x := v.(type) {
			case int32:
				r[i] = int64(x)
			case int16:
				r[i] = int64(x)
			}
		}
		kept = append(kept, r)
	}
	return kept
}

// readWarehouse returns the tables of the warehouse at url (no other
// process may hold a DuckDB file).
func readWarehouse(t *testing.T, url string, tables ...string) map[string]*warehouse.Table {
	t.Helper()
	wh, err := openWarehouse(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wh.Close() }()
	out := map[string]*warehouse.Table{}
	for _, name := range tables {
		tab, err := wh.Read(t.Context(), name)
		if err != nil && !strings.Contains(err.Error(), "no such table") {
			t.Fatal(err)
		}
		out[name] = tab // nil when missing
	}
	return out
}

// checkTable fails t unless table holds want (query columns) exactly once,
// one snapshot date.
func checkTable(t *testing.T, name string, got *warehouse.Table, want [][]any) {
	t.Helper()
	if got == nil {
		t.Errorf("table %s: missing", name)
		return
	}
	cols := warehousetest.QueryColumns(got)
	proj := warehousetest.Project(got, cols...)
	if d := warehousetest.Diff(&warehouse.Table{Columns: proj.Columns, Rows: want}, proj); d != "" {
		t.Errorf("table %s against the source:\n%s", name, d)
	}
	dates := map[string]bool{}
	for _, r := range warehousetest.Project(got, "_snapshot_date").Rows {
		dates[fmt.Sprint(r[0])] = true
	}
	if len(dates) != 1 {
		t.Errorf("table %s: %d snapshot dates, want 1", name, len(dates))
	}
}

// waitActive waits until a query whose text contains substr is running on
// the source's database (not another test's database on the same cluster),
// and returns its backend's pid.
func waitActive(t *testing.T, dsn, substr string) int32 {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var pid int32
		err := conn.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()
				AND datname = current_database() LIMIT 1`, substr).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // polling the server's view; nothing to wait on
	}
	t.Fatalf("no query with %q became active", substr)
	return 0
}

// historyRuns returns the runs and their query runs, oldest first.
func historyRuns(t *testing.T, dsn string) ([]history.Run, map[int64][]history.QueryRun) {
	t.Helper()
	store, err := history.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	runs, err := store.Runs(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(runs)
	qrs := map[int64][]history.QueryRun{}
	for _, r := range runs {
		if qrs[r.ID], err = store.QueryRuns(t.Context(), r.ID); err != nil {
			t.Fatal(err)
		}
	}
	return runs, qrs
}

func describeRuns(runs []history.Run, qrs map[int64][]history.QueryRun) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "run %d %s %s %q\n", r.ID, r.Trigger, r.Status, r.Error)
		for _, q := range qrs[r.ID] {
			fmt.Fprintf(&b, "  %s %s attempts %d %q\n", q.Query, q.Status, q.Attempts, q.Error)
		}
	}
	return b.String()
}

// statusOf is GET /api/v1/status.
func statusOf(t *testing.T, s *serving) (int, map[string]any) {
	t.Helper()
	code, body := s.do("GET", "/api/v1/status", "", "")
	var st map[string]any
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("status %d: %s", code, body)
	}
	return code, st
}

// TestFaultSourceRestartedMidRun restarts the source (pg_ctl restart -m
// fast) while serve's catch-up run is in the middle of the slow query: the
// query loses its connection, and the run's snapshot dies with the
// coordinator's; the runner opens a fresh snapshot, once, and the slow
// query and the one after it (which would fail to attach to the dead
// snapshot) load in the same run, from the fresh snapshot, whose time
// their query runs record; the query that finished before keeps the first
// snapshot's. No rerun is needed; every table equals the source's result
// exactly once and the status is ok.
func TestFaultSourceRestartedMidRun(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/slow.sql": slowQuery,
		"c/tail.sql": strings.Replace(goodQuery, "description: ", "description: tail ", 1)}, worldOptions{ownSource: true})
	s := serveTuned(t, w.config, "@every 1h", fastScheduler)
	waitActive(t, w.srcDSN, "events c")
	if err := w.src.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.log.wait(t, `"msg":"run finished"`, 1)
	code, st := statusOf(t, s)
	if code != 200 || st["state"] != "ok" {
		t.Errorf("status after the run: %d %v", code, st)
	}
	if s.stop() != ExitOK {
		t.Error("serve did not exit 0")
	}
	if strings.Contains(s.log.String(), `"trigger":"rerun"`) {
		t.Errorf("a rerun was made:\n%s", s.log)
	}
	runs, qrs := historyRuns(t, w.histDSN)
	if len(runs) != 1 || runs[0].Trigger != runner.TriggerCatchUp || runs[0].Status != history.RunSucceeded {
		t.Fatalf("runs:\n%s", describeRuns(runs, qrs))
	}
	snap := map[string]time.Time{}
	for _, q := range qrs[runs[0].ID] {
		snap[q.Query] = q.SnapshotTime
		if q.Status != history.QuerySucceeded {
			t.Errorf("%s: %s after %d attempts: %s", q.Query, q.Status, q.Attempts, q.Error)
		}
		if q.Query == "slow" && q.Attempts < 2 {
			t.Errorf("the slow query in the restart: %d attempts, want it retried", q.Attempts)
		}
	}
	if !snap["slow"].After(snap["actors"]) || !snap["tail"].Equal(snap["slow"]) {
		t.Errorf("snapshot times: actors %s, slow %s, tail %s; want the fresh snapshot's for slow and tail",
			snap["actors"], snap["slow"], snap["tail"])
	}
	got := readWarehouse(t, "duckdb://"+w.wh, "actors", "slow", "tail")
	checkTable(t, "actors", got["actors"], expected(t, w.srcDSN, actorsSQL))
	checkTable(t, "slow", got["slow"], expected(t, w.srcDSN, slowSQL))
	checkTable(t, "tail", got["tail"], expected(t, w.srcDSN, actorsSQL))
}

// TestFaultSourceConnectionTerminated terminates the slow query's backend
// (pg_terminate_backend) in the middle: the worker reconnects and runs it
// again on the same snapshot; it loads once, in the same run.
func TestFaultSourceConnectionTerminated(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/slow.sql": slowQuery}, worldOptions{})
	s := serveTuned(t, w.config, "@every 1h", fastScheduler)
	pid := waitActive(t, w.srcDSN, "events c")
	conn := pgtest.Connect(t, w.srcDSN)
	var ok bool
	if err := conn.QueryRow(t.Context(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate %d: %v %v", pid, ok, err)
	}
	s.log.wait(t, `"msg":"run finished"`, 1)
	if s.stop() != ExitOK {
		t.Error("serve did not exit 0")
	}
	runs, qrs := historyRuns(t, w.histDSN)
	if len(runs) != 1 || runs[0].Status != history.RunSucceeded {
		t.Fatalf("runs:\n%s", describeRuns(runs, qrs))
	}
	for _, q := range qrs[runs[0].ID] {
		if q.Query == "slow" && (q.Status != history.QuerySucceeded || q.Attempts != 2) {
			t.Errorf("the slow query: %s after %d attempts, want succeeded at the second", q.Status, q.Attempts)
		}
	}
	got := readWarehouse(t, "duckdb://"+w.wh, "actors", "slow")
	checkTable(t, "actors", got["actors"], expected(t, w.srcDSN, actorsSQL))
	checkTable(t, "slow", got["slow"], expected(t, w.srcDSN, slowSQL))
}

// TestFaultHistoryUnreachableAtTick stops the history database's cluster
// before a tick: the tick starts no run (nothing recorded, nothing
// loaded); every attempt logs why; /readyz answers 503. Once the history
// is back, /api/v1/status shows the tick's error (failing, 503) until the
// next attempt makes the tick's run, once, fully recorded.
func TestFaultHistoryUnreachableAtTick(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t, map[string]string{"a/actors.sql": goodQuery}, worldOptions{ownHistory: true})
	sc := fastScheduler
	sc.RetryBackoff, sc.MaxRetryBackoff = 4*time.Second, 4*time.Second // a window to see the error in
	s := serveTuned(t, w.config, "@every 6s", sc)
	s.log.wait(t, `"msg":"run finished"`, 1) // the catch-up
	port := w.hist.Port()
	if err := w.hist.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	line := s.log.wait(t, "the tick's run could not start; trying again", 1)
	if !strings.Contains(line, "127.0.0.1:"+fmt.Sprint(port)+"/metricgate") || strings.Contains(line, testPassword) {
		t.Errorf("the log line does not name the history database (or shows its password): %s", line)
	}
	if code, body := s.do("GET", "/readyz", "", ""); code != 503 || !strings.Contains(body, "not_ready") {
		t.Errorf("/readyz with the history down: %d %s", code, body)
	}
	if code, _ := s.do("GET", "/api/v1/status", "", ""); code == 200 {
		t.Error("/api/v1/status answers 200 with the history down")
	}
	w.hist = startCluster(t, w.histDir, port)
	up := time.Now()

	// The next attempt is up to 4s away: the status shows why meanwhile.
	var tickErr map[string]any
	for tickErr == nil {
		code, st := statusOf(t, s)
		if te, ok := st["last_tick_error"].(map[string]any); ok {
			tickErr = te
			if code != 503 || st["state"] != "failing" || !strings.Contains(fmt.Sprint(st["problems"]), "could not start") {
				t.Errorf("status with a tick error: %d %v", code, st)
			}
			break
		}
		if strings.Count(s.log.String(), `"msg":"run finished"`) > 1 {
			t.Fatalf("the tick's run was made before the status showed its error: %v", st)
		}
		time.Sleep(50 * time.Millisecond) // polling the API; the scheduler has no event to wait on
	}
	if e, _ := tickErr["error"].(string); !strings.Contains(e, "take run lock on [address]/metricgate") || strings.Contains(e, "127.0.0.1") {
		t.Errorf("last_tick_error does not say the history is unreachable, or names its address: %v", tickErr)
	}
	s.log.wait(t, `"msg":"run finished"`, 2)
	for deadline := time.Now().Add(5 * time.Second); ; { // the status is cached for a second
		_, st := statusOf(t, s)
		if st["last_tick_error"] == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("last_tick_error after the run: %v", st["last_tick_error"])
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.stop() != ExitOK {
		t.Error("serve did not exit 0")
	}

	runs, qrs := historyRuns(t, w.histDSN)
	if len(runs) < 2 || runs[0].Trigger != runner.TriggerCatchUp {
		t.Fatalf("runs:\n%s", describeRuns(runs, qrs))
	}
	for _, r := range runs {
		// The query is daily: only the catch-up runs it.
		if r.Status == history.RunRunning || r.FinishedAt.IsZero() || (r.ID == runs[0].ID) != (len(qrs[r.ID]) == 1) {
			t.Errorf("run %d is half-recorded: %s, %d query runs", r.ID, r.Status, len(qrs[r.ID]))
		}
		if r.StartedAt.After(down) && r.StartedAt.Before(up) {
			t.Errorf("run %d started at %s, while the history was down", r.ID, r.StartedAt)
		}
	}
	// The tick the outage hit got one run.
	tick, err := time.Parse(time.RFC3339, fmt.Sprint(tickErr["tick"]))
	if err != nil {
		t.Fatal(err)
	}
	made := 0
	for _, r := range runs[1:] {
		if !r.StartedAt.Before(tick) && r.StartedAt.Before(tick.Add(6*time.Second)) {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d runs for the %s tick, want 1:\n%s", made, tick, describeRuns(runs, qrs))
	}
	checkTable(t, "actors", readWarehouse(t, "duckdb://"+w.wh, "actors")["actors"], expected(t, w.srcDSN, actorsSQL))
}
