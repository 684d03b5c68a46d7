package runner_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
)

// killCoordinator ends the session of the run's coordinator on the source
// (as a source restart does), and waits until it is gone: the exported
// snapshot dies with it. Only this test's database counts: parallel tests
// on the shared cluster have coordinators of their own.
func killCoordinator(t *testing.T, dsn string) error {
	t.Helper()
	admin := pgtest.Connect(t, dsn)
	var n int
	err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
		WHERE application_name LIKE 'metricgate run % coordinator' AND datname = current_database()`).Scan(&n)
	if err == nil && n != 1 {
		err = errors.New("no coordinator session to end")
	}
	return err
}

// TestLostSnapshotIsOpenedAgainOnce: when the coordinator's session ends
// before the next query starts, that query cannot attach to the exported
// snapshot (SQLSTATE 22023 at its first attempt); the runner opens a fresh
// snapshot, once, and the query and those after it load from it in the
// same run, their query runs recording its time. When the fresh snapshot
// is lost too, the queries not done fail, marked transient for a rerun.
func TestLostSnapshotIsOpenedAgainOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		kills int // coordinators ended, one before each of the first queries
	}{{"once", 1}, {"twice", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.seed(12, 1)
			qs := buildQueries(t, map[string]string{"a": query(perGroup), "b": query(perGroup), "c": query(perGroup)})
			var mu sync.Mutex
			calls := 0
			var killedAt time.Time
			held := func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls > tc.kills {
					return nil
				}
				if calls == 1 {
					killedAt = time.Now()
				}
				return killCoordinator(t, e.sourceDSN)
			}
			res, err := e.runner(runner.Config{Workers: 1}, nil, nil).Run(t.Context(), runner.Options{Queries: qs, Held: held})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Transient) != len(res.Queries) {
				t.Fatalf("%d Transient for %d query runs", len(res.Transient), len(res.Queries))
			}
			for i, q := range res.Queries {
				wantOK := tc.kills == 1 || q.Query == "a"
				switch {
				case wantOK && (q.Status != history.QuerySucceeded || res.Transient[i]):
					t.Errorf("%s: %s (transient %v) after %d attempts: %s", q.Query, q.Status, res.Transient[i], q.Attempts, q.Error)
				case wantOK && !q.SnapshotTime.After(killedAt):
					t.Errorf("%s: snapshot time %s, want the fresh snapshot's (after %s)", q.Query, q.SnapshotTime, killedAt)
				case wantOK && q.Query == "a" && q.Attempts != 2:
					t.Errorf("a: %d attempts, want 2 (the dead snapshot's and the fresh one's)", q.Attempts)
				case !wantOK && (q.Status != history.QueryFailed || !res.Transient[i] ||
					!strings.Contains(q.Error, "SQLSTATE 22023 invalid_parameter_value")):
					t.Errorf("%s after the second loss: %s (transient %v): %s", q.Query, q.Status, res.Transient[i], q.Error)
				}
			}
			for _, name := range []string{"a", "b", "c"} {
				rows := 0
				if tb, err := e.wh.Read(t.Context(), name); err == nil {
					rows = len(tb.Rows)
				}
				if want := map[bool]int{true: 3, false: 0}[tc.kills == 1 || name == "a"]; rows != want {
					t.Errorf("table %s has %d rows, want %d", name, rows, want)
				}
			}
		})
	}
}

// TestLostRunLockStartsNoMoreQueries: once Options.Held says the run lock
// is lost, no more queries start; the ones not started are recorded as
// failed with its error, marked transient, and the run's error says so.
func TestLostRunLockStartsNoMoreQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	qs := buildQueries(t, map[string]string{"a": query(perGroup), "b": query(perGroup), "c": query(perGroup)})
	calls := 0
	lost := errors.New("run lock lost: history database connection closed; another session holds it now")
	held := func(context.Context) error {
		calls++
		if calls > 1 {
			return lost
		}
		return nil
	}
	res, err := e.runner(runner.Config{Workers: 1}, nil, nil).Run(t.Context(), runner.Options{Queries: qs, Held: held})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("Held called %d times, want 2 (a lost lock is not asked again)", calls)
	}
	for i, q := range res.Queries {
		switch {
		case q.Query == "a" && q.Status != history.QuerySucceeded:
			t.Errorf("a: %s: %s", q.Status, q.Error)
		case q.Query != "a" && (q.Status != history.QueryFailed || q.Error != lost.Error() || !res.Transient[i] || q.Attempts != 0):
			t.Errorf("%s: %s (transient %v, %d attempts): %q", q.Query, q.Status, res.Transient[i], q.Attempts, q.Error)
		}
	}
	if res.Status != history.RunPartial || !strings.Contains(res.Error, lost.Error()) {
		t.Errorf("run: %s %q", res.Status, res.Error)
	}
	if tb, err := e.wh.Read(t.Context(), "b"); err == nil && len(tb.Rows) > 0 {
		t.Errorf("b was loaded after the lock was lost: %d rows", len(tb.Rows))
	}
}
