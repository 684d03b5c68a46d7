package runner_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schema"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's world: a source database, a history database and a
// PostgreSQL warehouse, each fresh.
type env struct {
	t         *testing.T
	sourceDSN string
	source    *pgx.Conn
	store     *history.Store
	wh        *postgres.Writer
	// catalog is the schema catalog of the runner's guard: testSchema (the
	// synthetic events) unless a test loads GitLab-shaped data.
	catalog *schema.Catalog
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, sourceDSN: pgtest.New(t)}
	e.source = pgtest.Connect(t, e.sourceDSN)
	store, err := history.Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e.store = store
	wh, err := postgres.Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wh.Close() })
	e.wh = wh
	return e
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.source.Exec(e.t.Context(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// seed creates events(k, actor): for k in 1..groups, k*step actors each.
func (e *env) seed(groups, step int) {
	e.exec(`CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, actor int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`)
	e.exec(`INSERT INTO events (k, actor) SELECT k, a FROM generate_series(1, $1) k, generate_series(1, k * $2) a`, groups, step)
}

// runner returns a runner over the env with writer w (default the
// warehouse) and cfg's other fields.
func (e *env) runner(cfg runner.Config, w runner.Writer, approver runner.Approver) *runner.Runner {
	e.t.Helper()
	cat := e.catalog
	if cat == nil {
		cat = testSchema()
	}
	g, err := guard.New(guard.Config{Schema: cat})
	if err != nil {
		e.t.Fatal(err)
	}
	if cfg.Sources == nil {
		cfg.Sources = map[string]runner.Source{"main": {URL: e.sourceDSN}}
	}
	cfg.Backoff = 10 * time.Millisecond
	if w == nil {
		w = e.wh
	}
	if approver == nil {
		approver = review.None{}
	}
	r, err := runner.New(cfg, runner.Deps{Guard: g, Writer: w, Recorder: e.store, Approver: approver})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// buildQueries builds a catalog from name → file text.
func buildQueries(t *testing.T, files map[string]string) []*catalog.Query {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name+".sql"] = &fstest.MapFile{Data: []byte(text)}
	}
	cat, err := catalog.Load(fsys, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return cat.Queries
}

// query is a query file with the required header and extra header lines.
func query(sql string, extra ...string) string {
	h := "-- description: test query\n-- owner: @pm\n-- group_size: actors\n"
	for _, x := range extra {
		h += "-- " + x + "\n"
	}
	return h + sql + "\n"
}

const perGroup = `SELECT k, count(DISTINCT actor) AS actors FROM events GROUP BY k`

func byName(res *runner.Result) map[string]history.QueryRun {
	m := map[string]history.QueryRun{}
	for _, q := range res.Queries {
		m[q.Query] = q
	}
	return m
}

func (e *env) read(table string) *warehouse.Table {
	e.t.Helper()
	tb, err := e.wh.Read(e.t.Context(), table)
	if err != nil {
		e.t.Fatalf("read %s: %v", table, err)
	}
	return tb
}

// column returns the values of column name, sorted.
func column(t *testing.T, tb *warehouse.Table, name string) []int64 {
	t.Helper()
	i := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no column %s in %v", name, tb.Columns)
	}
	var out []int64
	for _, r := range tb.Rows {
		out = append(out, r[i].(int64))
	}
	slices.Sort(out)
	return out
}

func TestRunLoadsOnlyGroupsOfMinSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(20, 1) // group k has k actors
	qs := buildQueries(t, map[string]string{"per_group": query(perGroup)})
	res, err := e.runner(runner.Config{}, nil, nil).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	qr := byName(res)["per_group"]
	if res.Status != history.RunSucceeded || qr.Status != history.QuerySucceeded {
		t.Fatalf("run %s, query %s: %s", res.Status, qr.Status, qr.Error)
	}
	// Groups 1..9 have fewer than 10 actors: suppressed; 10..20 load.
	if qr.RowsLoaded != 11 || qr.RowsSuppressed != "1-9" {
		t.Errorf("loaded %d, suppressed %s; want 11 and 1-9", qr.RowsLoaded, qr.RowsSuppressed)
	}
	got := column(t, e.read("per_group"), "actors")
	want := []int64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if !slices.Equal(got, want) {
		t.Errorf("actors in the warehouse = %v, want %v", got, want)
	}
	// The history has the same figures.
	stored, err := e.store.QueryRuns(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].RowsLoaded != 11 || stored[0].RowsSuppressed != "1-9" || stored[0].SHA256 != qs[0].SHA256 {
		t.Errorf("history = %+v", stored)
	}
	run, err := e.store.Run(t.Context(), res.RunID)
	if err != nil || run.Status != history.RunSucceeded {
		t.Errorf("run record = %+v, %v", run, err)
	}
}

// spyWriter passes loads to a real writer, calling before at the start of
// each load and checking every row it forwards.
type spyWriter struct {
	w      runner.Writer
	before func(load warehouse.Load)
	mu     sync.Mutex
	rows   map[string][][]any
}

func (s *spyWriter) Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	if s.before != nil {
		s.before(load)
	}
	return s.w.Write(ctx, load, &spyRows{Rows: rows, s: s, table: load.Table})
}

type spyRows struct {
	warehouse.Rows
	s     *spyWriter
	table string
}

func (r *spyRows) Values() ([]any, error) {
	v, err := r.Rows.Values()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.s.rows == nil {
		r.s.rows = map[string][][]any{}
	}
	r.s.rows[r.table] = append(r.s.rows[r.table], slices.Clone(v))
	return v, err
}

func TestNoRowUnderMinGroupSizeReachesTheWriter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(40, 1)
	qs := buildQueries(t, map[string]string{"per_group": query(perGroup, "min_group_size: 25")})
	spy := &spyWriter{w: e.wh}
	res, err := e.runner(runner.Config{}, spy, nil).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	if qr := byName(res)["per_group"]; qr.RowsLoaded != 16 || qr.RowsSuppressed != "10-99" {
		t.Fatalf("loaded %d, suppressed %s; want 16 and 10-99 (24) (%s)", qr.RowsLoaded, qr.RowsSuppressed, qr.Error)
	}
	if len(spy.rows["per_group"]) != 16 {
		t.Fatalf("writer saw %d rows, want 16", len(spy.rows["per_group"]))
	}
	for _, row := range spy.rows["per_group"] {
		if n := row[1].(int64); n < 25 {
			t.Errorf("a group of %d actors reached the writer", n)
		}
	}
}

func TestSnapshotIsSharedByEveryQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(15, 1)
	qs := buildQueries(t, map[string]string{
		"a_first":  query(perGroup),
		"b_second": query(`SELECT count(*) AS total, count(DISTINCT actor) AS actors FROM events`),
	})
	// When the first query's load starts, commit a write on the source that
	// the second query would see if it did not share the run's snapshot.
	var once sync.Once
	spy := &spyWriter{w: e.wh, before: func(warehouse.Load) {
		once.Do(func() {
			conn := pgtest.Connect(t, e.sourceDSN)
			if _, err := conn.Exec(context.Background(), `INSERT INTO events (k, actor) SELECT 99, a FROM generate_series(1, 1000) a`); err != nil {
				t.Error(err)
			}
		})
	}}
	var before int64
	if err := e.source.QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	res, err := e.runner(runner.Config{Workers: 1}, spy, nil).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != history.RunSucceeded {
		t.Fatalf("run %s: %+v", res.Status, res.Queries)
	}
	got := e.read("b_second")
	if total := got.Rows[0][0].(int64); total != before {
		t.Errorf("second query counted %d events; the snapshot had %d (the write after the run started leaked in)", total, before)
	}
	var after int64
	if err := e.source.QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before+1000 {
		t.Fatalf("the concurrent write did not happen: %d events, want %d", after, before+1000)
	}
	if g := column(t, e.read("a_first"), "k"); slices.Contains(g, 99) {
		t.Errorf("first query saw group 99")
	}
}

func TestTimeoutAndCostFailAloneWhileOthersLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	qs := buildQueries(t, map[string]string{
		"good":      query(perGroup),
		"too_slow":  query(`SELECT count(*) AS actors FROM events e, generate_series(1, 2000000000) g`, "timeout: 1s"),
		"too_dear":  query(`SELECT e.k, count(*) AS actors FROM events e, events f, events g GROUP BY e.k`, "max_cost: 5"),
		"also_good": query(`SELECT count(DISTINCT actor) AS actors FROM events`),
	})
	// A large max_cost for the source: too_slow must reach its timeout.
	res, err := e.runner(runner.Config{Sources: map[string]runner.Source{"main": {URL: e.sourceDSN, MaxCost: 1e18}}}, nil, nil).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	q := byName(res)
	if res.Status != history.RunPartial {
		t.Errorf("run status %s, want partial", res.Status)
	}
	for _, name := range []string{"good", "also_good"} {
		if q[name].Status != history.QuerySucceeded || q[name].RowsLoaded == 0 {
			t.Errorf("%s: %s %q, %d rows", name, q[name].Status, q[name].Error, q[name].RowsLoaded)
		}
	}
	if s := q["too_slow"]; s.Status != history.QueryFailed || !strings.Contains(s.Error, "query ran over its timeout 1s (SQLSTATE 57014 query_canceled)") || s.Attempts != 1 {
		t.Errorf("too_slow: %s after %d attempts: %q", s.Status, s.Attempts, s.Error)
	}
	if s := q["too_dear"]; s.Status != history.QueryFailed || !strings.Contains(s.Error, "above max_cost 5") || s.Cost <= 5 {
		t.Errorf("too_dear: %s cost %.0f: %q", s.Status, s.Cost, s.Error)
	}
}

func TestKilledConnectionIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	qs := buildQueries(t, map[string]string{"per_group": query(perGroup)})
	// Hold a lock the query waits for, kill the query's backend while it
	// waits, then let the retry through.
	locker := pgtest.Connect(t, e.sourceDSN)
	tx, err := locker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	killed := make(chan error, 1)
	go func() {
		admin := pgtest.Connect(t, e.sourceDSN)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var n int
			err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
				WHERE application_name LIKE 'metricgate run % per_group' AND wait_event_type = 'Lock' AND datname = current_database()`).Scan(&n)
			if err != nil || n > 0 {
				_ = tx.Rollback(context.Background())
				killed <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = tx.Rollback(context.Background())
		killed <- fmt.Errorf("the query never waited on the lock")
	}()
	res, err := e.runner(runner.Config{LockTimeout: time.Minute}, nil, nil).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	qr := byName(res)["per_group"]
	if qr.Status != history.QuerySucceeded || qr.Attempts != 2 {
		t.Fatalf("per_group: %s after %d attempts (%q); want succeeded after 2", qr.Status, qr.Attempts, qr.Error)
	}
	if got := len(e.read("per_group").Rows); got != 3 {
		t.Errorf("warehouse has %d rows, want exactly one copy of 3", got)
	}
}

func TestStaleSourceIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	qs := buildQueries(t, map[string]string{"per_group": query(perGroup)})
	cfg := runner.Config{Sources: map[string]runner.Source{"main": {URL: e.sourceDSN,
		AsOf: "(SELECT max(created_at) - interval '30 hours' FROM events)", MaxAge: 26 * time.Hour}}}
	res, err := e.runner(cfg, nil, nil).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	qr := byName(res)["per_group"]
	if res.Status != history.RunFailed || qr.Status != history.QueryFailed ||
		!strings.Contains(qr.Error, "refusing to load stale numbers") || !strings.Contains(res.Error, "max_age is 26h") {
		t.Fatalf("run %s %q; query %s %q", res.Status, res.Error, qr.Status, qr.Error)
	}
	if _, err := e.wh.Read(t.Context(), "per_group"); err == nil {
		t.Error("a table was created from a stale source")
	}
}

func TestGuardIsAppliedAgainAndApprovalDecides(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	qs := buildQueries(t, map[string]string{
		"approved":   query(perGroup),
		"unapproved": query(perGroup, "target: unapproved_t"),
		// Valid headers; SQL the guard refuses. The catalog does not run the
		// guard, so only the runner's own check stands between it and the source.
		"leaky": query(`SELECT actor, count(*) AS actors FROM events GROUP BY k`),
	})
	approver := approveOnly{"approved": true, "leaky": true}
	res, err := e.runner(runner.Config{}, nil, approver).Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	q := byName(res)
	if q["approved"].Status != history.QuerySucceeded {
		t.Errorf("approved: %s %q", q["approved"].Status, q["approved"].Error)
	}
	if s := q["unapproved"]; s.Status != history.QuerySkipped || !strings.Contains(s.Error, "unapproved: not in the test's list") {
		t.Errorf("unapproved: %s %q", s.Status, s.Error)
	}
	if s := q["leaky"]; s.Status != history.QueryFailed || !strings.Contains(s.Error, "refused by the guard: leaky.sql:4:") {
		t.Errorf("leaky: %s %q", s.Status, s.Error)
	}
	for _, table := range []string{"unapproved_t", "leaky"} {
		if _, err := e.wh.Read(t.Context(), table); err == nil {
			t.Errorf("table %s exists", table)
		}
	}
}

type approveOnly map[string]bool

func (a approveOnly) Approve(_ context.Context, qs []*catalog.Query) (map[string]review.Approval, error) {
	out := map[string]review.Approval{}
	for _, q := range qs {
		if a[q.Name] {
			out[q.Name] = review.Approval{State: review.Approved, Commit: "c0ffee", Summary: "test"}
		} else {
			out[q.Name] = review.Approval{State: review.Unapproved, Reason: "not in the test's list"}
		}
	}
	return out, nil
}

func TestMaxRowsFailsAndKeepsThePreviousSlice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(30, 1)
	ok := buildQueries(t, map[string]string{"per_group": query(perGroup)})
	r := e.runner(runner.Config{}, nil, nil)
	if res, err := r.Run(t.Context(), runner.Options{Queries: ok}); err != nil || res.Status != history.RunSucceeded {
		t.Fatalf("first run: %v %+v", err, res)
	}
	// The same query, now limited to fewer rows than it has: it fails, and
	// the slice of today loaded by the first run stays.
	limited := buildQueries(t, map[string]string{"per_group": query(perGroup, "max_rows: 5")})
	res, err := r.Run(t.Context(), runner.Options{Queries: limited})
	if err != nil {
		t.Fatal(err)
	}
	if qr := byName(res)["per_group"]; qr.Status != history.QueryFailed || !strings.Contains(qr.Error, "more than max_rows (5)") {
		t.Fatalf("per_group: %s %q", qr.Status, qr.Error)
	}
	if got := column(t, e.read("per_group"), "k"); len(got) != 21 || got[0] != 10 {
		t.Errorf("warehouse after the failed run: %v, want the 21 groups of the first run", got)
	}
}

func TestRerunSameDayLeavesOneCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(14, 1)
	qs := buildQueries(t, map[string]string{"per_group": query(perGroup)})
	r := e.runner(runner.Config{}, nil, nil)
	var ids []int64
	for range 2 {
		res, err := r.Run(t.Context(), runner.Options{Queries: qs})
		if err != nil || res.Status != history.RunSucceeded {
			t.Fatalf("run: %v %+v", err, res)
		}
		ids = append(ids, res.RunID)
	}
	tb := e.read("per_group")
	if len(tb.Rows) != 5 {
		t.Fatalf("%d rows after two runs on one day, want 5", len(tb.Rows))
	}
	runCol := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_run_id" })
	for _, row := range tb.Rows {
		if row[runCol].(int64) != ids[1] {
			t.Errorf("row of run %v, want the second run %d", row[runCol], ids[1])
		}
	}
}

// TestNewRequiresAnApprover: a runner without an approver is refused,
// rather than running every file as if approval were off.
func TestNewRequiresAnApprover(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g, err := guard.New(guard.Config{Schema: testSchema()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = runner.New(runner.Config{Sources: map[string]runner.Source{"main": {URL: e.sourceDSN}}},
		runner.Deps{Guard: g, Writer: e.wh, Recorder: e.store})
	if err == nil || !strings.Contains(err.Error(), "approver") {
		t.Fatalf("New without an approver: %v", err)
	}
}
