package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
)

// capture is a RunMaker that hands the result of each run to a channel.
type capture struct {
	r   *runner.Runner
	res chan *runner.Result
}

func (c *capture) Run(ctx context.Context, opts runner.Options) (*runner.Result, error) {
	res, err := c.r.Run(ctx, opts)
	c.res <- res
	return res, err
}

// TestRunLockLostWithTheHistoryDatabase restarts the history database's
// cluster (pg_ctl restart -m fast) while a scheduled run holds the run lock
// and its first query waits on a table lock on the source. The lock dies
// with its session. When another replica takes it before the run notices,
// the run starts no more queries: the ones left are recorded as failed,
// "run lock lost: history database connection closed", transient. When
// nobody else takes it, the run's watch takes it again, another replica
// cannot take it, and the run goes on to the end.
func TestRunLockLostWithTheHistoryDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		compete bool
		watch   time.Duration
	}{{"another replica takes it", true, time.Hour}, {"taken again", false, 50 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			e := newEnv(t)
			e.seed(12, 1)
			hc, err := pgtest.Start(ctx, pgtest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = hc.Stop(context.WithoutCancel(ctx)) })
			if err := hc.CreateDatabase(ctx, "metricgate"); err != nil {
				t.Fatal(err)
			}
			e.store = openStore(t, hc.DSN("metricgate"))
			t.Cleanup(func() { _ = e.store.Close() })
			other := openStore(t, hc.DSN("metricgate")) // another replica's sessions
			t.Cleanup(func() { _ = other.Close() })

			qs := buildQueries(t, map[string]string{"a": query(perGroup), "b": query(perGroup), "c": query(perGroup)})
			locker := pgtest.Connect(t, e.sourceDSN)
			tx, err := locker.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			run := &capture{r: e.runner(runner.Config{Workers: 1, LockTimeout: time.Minute}, nil, nil), res: make(chan *runner.Result, 1)}
			sched, err := runner.NewScheduler(runner.SchedulerConfig{Schedule: "@every 1h", LockWatch: tc.watch, Reruns: -1},
				runner.SchedulerDeps{Runner: run, Store: e.store,
					Plan: func(context.Context, []string, bool, time.Time) (runner.Options, error) {
						return runner.Options{Queries: qs}, nil
					}})
			if err != nil {
				t.Fatal(err)
			}
			sched.Start(context.Background())
			t.Cleanup(func() { _ = sched.Shutdown(context.Background()) })
			waitFor(t, e.sourceDSN, `SELECT count(*) > 0 FROM pg_stat_activity
				WHERE application_name LIKE 'metricgate run % a' AND wait_event_type = 'Lock'
					AND datname = current_database()`) // the cluster is shared with other tests
			if err := hc.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			restarted := time.Now()

			var taken time.Time
			if tc.compete {
				for deadline := time.Now().Add(30 * time.Second); taken.IsZero(); {
					release, ok, err := other.TryRunLock(ctx)
					if ok {
						taken = time.Now()
						t.Cleanup(release)
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the other replica could not take the lock after the restart at %s: %v; %s",
							restarted.Format(time.StampMicro), err, lockHolders(t, hc.DSN("metricgate")))
					}
					time.Sleep(10 * time.Millisecond) // polling the lock, as a replica's retries do
				}
			} else {
				waitFor(t, hc.DSN("metricgate"), `SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted`)
				for deadline := time.Now().Add(30 * time.Second); ; {
					// The other replica's pooled sessions died in the restart too:
					// the first tries fail.
					release, ok, err := other.TryRunLock(ctx)
					if ok {
						release()
						t.Fatal("the other replica took the lock the run took again")
					}
					if err == nil {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal(err)
					}
				}
			}
			if err := tx.Rollback(ctx); err != nil { // let a through
				t.Fatal(err)
			}
			var res *runner.Result
			select {
			case res = <-run.res:
			case <-time.After(time.Minute):
				t.Fatal("the run did not end")
			}
			for i, q := range res.Queries {
				lost := strings.HasPrefix(q.Error, "run lock lost: history database connection closed")
				switch {
				case q.Query == "a" || !tc.compete:
					if q.Status != history.QuerySucceeded {
						t.Errorf("%s: %s: %s", q.Query, q.Status, q.Error)
					}
				case !lost || q.Status != history.QueryFailed || q.Attempts != 0 || !res.Transient[i]:
					t.Errorf("%s after another replica took the lock at %s: %s, %d attempts, transient %v: %q",
						q.Query, taken.Format(time.StampMicro), q.Status, q.Attempts, res.Transient[i], q.Error)
				}
			}
			if tc.compete && !strings.Contains(res.Error, "run lock lost") {
				t.Errorf("the run's error does not say the lock was lost: %s %q", res.Status, res.Error)
			}
		})
	}
}

// waitFor polls sql (a boolean query) on dsn until it is true.
func waitFor(t *testing.T, dsn, sql string) {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		var ok bool
		if err := conn.QueryRow(t.Context(), sql).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling the server's view; nothing to wait on
	}
	t.Fatalf("never true: %s", sql)
}

// lockHolders describes the sessions holding an advisory lock on dsn's
// database, for a failure's message.
func lockHolders(t *testing.T, dsn string) string {
	conn := pgtest.Connect(t, dsn)
	rows, err := conn.Query(t.Context(), `SELECT format('pid %s (%s) since %s: %s %s', a.pid, a.application_name,
			to_char(a.backend_start, 'HH24:MI:SS.US'), a.state, left(a.query, 200))
		FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return err.Error()
	}
	holders, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err.Error()
	}
	return "lock holders: " + strings.Join(holders, "; ")
}
