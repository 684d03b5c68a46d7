package cli

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// runWorld is a source with a small table, a history database, a DuckDB
// warehouse, a queries directory and a config file naming them, with a
// password in every URL that must never be printed.
type runWorld struct {
	t       *testing.T
	config  string
	queries string
	wh      string
	history string // the history database's URL
	source  string // the source's URL
}

const testPassword = "pw-that-must-not-leak"

func withPassword(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), testPassword) // trust auth ignores it
	return u.String()
}

func newRunWorld(t *testing.T, files map[string]string) *runWorld {
	t.Helper()
	src := pgtest.New(t)
	conn := pgtest.Connect(t, src)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE events (k int, actor int);
		INSERT INTO events SELECT k, a FROM generate_series(1, 20) k, generate_series(1, k) a`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &runWorld{t: t, queries: filepath.Join(dir, "queries"), wh: filepath.Join(dir, "w.duckdb")}
	for name, text := range files {
		p := filepath.Join(w.queries, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.history, w.source = pgtest.New(t), src
	w.config = writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, src)+"\n"+
		"history:\n  url: "+withPassword(t, w.history)+"\n"+
		"warehouse:\n  url: duckdb://"+w.wh+"\n"+
		"queries:\n  dir: "+w.queries+"\n  approval: none\n"+
		"guard:\n  schema: "+syntheticSchema(t)+"\n")
	return w
}

func (w *runWorld) run(args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	code = run(w.t.Context(), append(args, "--config", w.config), &env{stdout: &out, stderr: &errOut})
	if strings.Contains(out.String()+errOut.String(), testPassword) {
		w.t.Errorf("%v printed a password:\n%s\n%s", args, out.String(), errOut.String())
	}
	return code, out.String(), errOut.String()
}

const (
	goodQuery = "-- description: actors per k\n-- owner: @pm\n-- group_size: actors\n" +
		"SELECT k, count(DISTINCT actor) AS actors FROM events GROUP BY k\n"
	// textAggregate picks a category's value, which the guard refuses
	// (max() of a category tells whether any one row has a value).
	textAggregate = "-- description: a text aggregate\n-- owner: @pm\n-- group_size: actors\n" +
		"SELECT max(k::text) AS top, count(DISTINCT actor) AS actors FROM events\n"
)

func TestRunCommand(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/top_text.sql": textAggregate,
		"c/typo.sql": strings.Replace(goodQuery, "-- owner:", "-- ownr:", 1)})

	code, out, errOut := w.run("run", "--once")
	if code != ExitProblems {
		t.Fatalf("run --once with a failing query: exit %d, want %d\n%s%s", code, ExitProblems, out, errOut)
	}
	if !regexp.MustCompile(`(?m)^actors\s+main\s+succeeded\s+11\s+1-9\s+0\s+\S+\s*$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^top_text\s+main\s+failed\s+0\s+0\s+0\s+\S+\s+refused by the guard: \S+top_text.sql:4:\d+: max\(\) of a category's value`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^typo\s+main\s+failed\s+0\s+0\s+0\s+\S+\s+invalid query file: \S+/queries/c/typo.sql:1:1: missing required header key "owner"`).MatchString(out) ||
		!strings.Contains(out, "run 1 partial: 1 succeeded, 2 failed, 0 skipped") {
		t.Errorf("run table:\n%s", out)
	}

	// Without --once only what is due runs: actors succeeded today, the
	// daily schedule makes it due tomorrow; top_text never succeeded.
	code, out, _ = w.run("run")
	if code != ExitProblems || strings.Contains(out, "actors ") || !strings.Contains(out, "top_text") || !strings.Contains(out, "typo") {
		t.Errorf("run of the due queries: exit %d:\n%s", code, out)
	}

	code, out, _ = w.run("run", "--query", "actors")
	if code != ExitOK || !strings.Contains(out, "run 3 succeeded: 1 succeeded, 0 failed") {
		t.Errorf("run --query actors: exit %d:\n%s", code, out)
	}
	code, out, _ = w.run("show", "actors", "--warehouse", "duckdb://"+w.wh)
	if code != ExitOK || !strings.Contains(out, "(11 rows)") || !regexp.MustCompile(`(?m)^20\s+20\s+\d{4}-\d\d-\d\d\s+3\s`).MatchString(out) {
		t.Errorf("show after two loads of one day (want one copy, from run 3): exit %d:\n%s", code, out)
	}

	code, _, errOut = w.run("run", "--query", "actor")
	if code != ExitUsage || !strings.Contains(errOut, `--query actor: no such query in the catalog (did you mean "actors"?)`) {
		t.Errorf("run --query with a typo: exit %d: %s", code, errOut)
	}
}

// TestRunTakesTheRunLock: metricgate run holds the run lock of the
// history database as serve's runs do. While another session (serve, or
// another run) holds it, run runs nothing and exits 1 saying who and what
// to do; with --wait it waits, saying so, and runs once the lock is free,
// or gives up at the end of the wait. While run makes its run, no other
// session gets the lock — serve, which marks every run still running as
// abandoned when it takes the lock, cannot mark this one.
func TestRunTakesTheRunLock(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/slow.sql": slowQuery})
	serve, err := history.Open(t.Context(), w.history) // another process's sessions
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Close() })
	if err := serve.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	release, ok, err := serve.TryRunLock(t.Context())
	if err != nil || !ok {
		t.Fatalf("take the lock: ok %v, err %v", ok, err)
	}

	code, out, errOut := w.run("run", "--once")
	if code != ExitProblems || !strings.Contains(errOut, "metricgate run: another metricgate is making a run (metricgate serve, or another metricgate run") ||
		!strings.Contains(errOut, "nothing was run; try again when it has finished, or pass --wait DURATION") || out != "" {
		t.Errorf("run while the lock is held: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = w.run("run", "--once", "--wait", "1500ms")
	if code != ExitProblems || !strings.Contains(errOut, "waiting for the run lock") || !strings.Contains(errOut, "waited 1.5s: another metricgate is making a run") {
		t.Errorf("run --wait while the lock stays held: exit %d\n%s", code, errOut)
	}
	if runs, err := serve.Runs(t.Context(), 0); err != nil || len(runs) != 0 {
		t.Fatalf("runs recorded while the lock was held: %v %v", runs, err)
	}

	// Free it while a run waits: the run goes on.
	var out2 bytes.Buffer
	errOut2 := &logWatch{}
	done := make(chan int, 1)
	go func() {
		done <- run(t.Context(), []string{"run", "--once", "--wait", "1m", "--config", w.config}, &env{stdout: &out2, stderr: errOut2})
	}()
	errOut2.wait(t, "waiting for the run lock", 1)
	release()
	waitActive(t, w.source, "events c")
	// serve, trying to take the lock meanwhile, does not get it.
	if rel, ok, err := serve.TryRunLock(t.Context()); err != nil || ok {
		if ok {
			rel()
		}
		t.Errorf("another session took the lock while run made its run: ok %v, err %v", ok, err)
	}
	if code := <-done; code != ExitOK || !strings.Contains(out2.String(), "run 1 succeeded: 2 succeeded") {
		t.Errorf("run --wait once the lock is free: exit %d\n%s%s", code, &out2, errOut2.String())
	}
	runs, err := serve.Runs(t.Context(), 0)
	if err != nil || len(runs) != 1 || runs[0].Status != history.RunSucceeded || runs[0].Error != "" {
		t.Errorf("runs: %+v %v", runs, err)
	}
}

func TestRunNeedsItsSettings(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "sources:\n  main:\n    url: postgres://x@127.0.0.1:1/db\n")
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"run", "--once", "--config", cfg}, &env{stdout: &out, stderr: &errOut})
	if code != ExitUsage || !strings.Contains(errOut.String(), "history.url is not set: set it in the config file or METRICGATE_HISTORY_URL") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

func TestPlanCommand(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/top_text.sql": textAggregate})
	code, out, errOut := w.run("plan", "actors")
	if code != ExitOK {
		t.Fatalf("plan actors: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^k\s+int4\s+group key$`),
		regexp.MustCompile(`(?m)^actors\s+int8\s+aggregate$`),
		regexp.MustCompile(`(?m)^EXPLAIN cost  \d+ \(max_cost 1000000000\)$`), // the source's default
		regexp.MustCompile(`(?m)^ran in        \d+m?s$`),
		regexp.MustCompile(`(?m)^would load    11 rows \(max_rows 100000\)$`),
		regexp.MustCompile(`(?m)^suppressed    1-9 rows with fewer than 10 people, 0 cells$`),
		regexp.MustCompile(`(?m)^  0–9 +1-9  suppressed$`),
		regexp.MustCompile(`(?m)^  10–19 +10  █+$`),
		regexp.MustCompile(`(?m)^  20–49 +1  █+$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("plan output lacks %s:\n%s", want, out)
		}
	}
	// Never a row of data: the group keys 10..20 appear nowhere.
	if regexp.MustCompile(`(?m)^1[0-9]\s|^20\s`).MatchString(out) {
		t.Errorf("plan printed data:\n%s", out)
	}
	code, out, errOut = w.run("plan", "top_text")
	if code != ExitProblems || !strings.Contains(out+errOut, "max() of a category's value") {
		t.Errorf("plan top_text: exit %d:\n%s%s", code, out, errOut)
	}
	code, _, errOut = w.run("plan", "nope")
	if code != ExitUsage || !strings.Contains(errOut, `no valid query "nope"`) {
		t.Errorf("plan nope: exit %d: %s", code, errOut)
	}
}

// TestRunAndPlanOnTheSourcesOfARole: with two sources of role main, run
// runs the query on each (one line per source, each source's rows in the
// table under its name) and plan says which of them it planned on.
func TestRunAndPlanOnTheSourcesOfARole(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery})
	eu := pgtest.New(t)
	conn := pgtest.Connect(t, eu)
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	w.config = writeConfig(t, strings.Replace(string(cfg), "sources:\n", "sources:\n  main_eu:\n    role: main\n    cell: eu\n    url: "+withPassword(t, eu)+"\n", 1))

	// main_eu has no events table yet: the query fails there alone.
	code, out, errOut := w.run("run", "--once")
	if code != ExitProblems ||
		!regexp.MustCompile(`(?m)^actors\s+main\s+succeeded\s+11\s+1-9\s+0\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^actors\s+main_eu\s+failed\s+0\s+0\s+0\s+\S+\s+explain: SQLSTATE 42P01 undefined_table at a/actors.sql:\d+:\d+$`).MatchString(out) ||
		!strings.Contains(out, "run 1 partial: 1 succeeded, 1 failed") {
		t.Errorf("run on two sources of main, one failing: exit %d:\n%s%s", code, out, errOut)
	}
	// The query stays due until every source has caught up.
	code, out, _ = w.run("run")
	if code != ExitProblems || !regexp.MustCompile(`(?m)^actors\s+main_eu\s+failed`).MatchString(out) {
		t.Errorf("run of the due queries while main_eu never loaded: exit %d:\n%s", code, out)
	}
	// Groups 1..30 there: 21 of them pass, against 11 on main.
	if _, err := conn.Exec(t.Context(), `CREATE TABLE events (k int, actor int);
		INSERT INTO events SELECT k, a FROM generate_series(1, 30) k, generate_series(1, k) a`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = w.run("run")
	if code != ExitOK ||
		!regexp.MustCompile(`(?m)^actors\s+main\s+succeeded\s+11\s+1-9\s+0\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^actors\s+main_eu\s+succeeded\s+21\s+1-9\s+0\s`).MatchString(out) ||
		!strings.Contains(out, "run 3 succeeded: 2 succeeded, 0 failed") {
		t.Errorf("run once main_eu is back: exit %d:\n%s%s", code, out, errOut)
	}
	if code, out, _ = w.run("run"); code != ExitOK || strings.Contains(out, "actors ") {
		t.Errorf("run with every source caught up: exit %d, want nothing due:\n%s", code, out)
	}
	code, out, _ = w.run("show", "actors", "--warehouse", "duckdb://"+w.wh, "--limit", "100")
	if code != ExitOK || !strings.Contains(out, "(32 rows)") || strings.Count(out, " main_eu\n") != 21 || strings.Count(out, " main\n") != 11 {
		t.Errorf("show after a run on two sources (want 11 rows of main, 21 of main_eu): exit %d:\n%s", code, out)
	}
	code, out, errOut = w.run("plan", "actors")
	if code != ExitOK || !strings.Contains(out, "query actors on source main (role main; planned on the first of its 2 sources main, main_eu; the run runs it on each)") {
		t.Errorf("plan on a role of two sources: exit %d:\n%s%s", code, out, errOut)
	}
}
