package runner_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
)

// TestSourcesRunSideBySide makes a run of one query on two sources whose
// events table is locked, so that every query that starts waits: with a
// budget of two workers the two sources' query runs wait at once (the sources run side by
// side, not one after the other); with a budget of one, never more than
// one query waits, across both sources. Then the locks go and the run
// succeeds on both.
func TestSourcesRunSideBySide(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{2, 1} {
		t.Run(fmt.Sprintf("workers %d", workers), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			e := newEnv(t)
			eu := pgtest.New(t)
			var locks []pgx.Tx
			var watches []*pgx.Conn
			for _, dsn := range []string{e.sourceDSN, eu} {
				conn := pgtest.Connect(t, dsn)
				if _, err := conn.Exec(ctx, `CREATE TABLE events (k int NOT NULL, actor int NOT NULL, v bigint NOT NULL);
					INSERT INTO events SELECT a % 2, a, a FROM generate_series(1, 60) a`); err != nil {
					t.Fatal(err)
				}
				tx, err := conn.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
					t.Fatal(err)
				}
				locks = append(locks, tx)
				watches = append(watches, pgtest.Connect(t, dsn))
			}
			waiting := func() int {
				total := 0
				for _, w := range watches {
					var n int
					if err := w.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
						WHERE application_name LIKE 'metricgate run % worker %' AND wait_event_type = 'Lock'
						AND datname = current_database()`).Scan(&n); err != nil {
						t.Fatal(err)
					}
					total += n
				}
				return total
			}
			cat := roleQueries(t, map[string]string{
				"a": query(`SELECT k, count(DISTINCT actor) AS actors, sum(v) AS total FROM events GROUP BY k`),
			})
			srcs := map[string]runner.Source{"main": {URL: e.sourceDSN}, "main_eu": {URL: eu, Role: "main", Cell: "eu"}}
			r := e.runner(runner.Config{Sources: srcs, Workers: workers, LockTimeout: time.Minute}, nil, nil)
			done := make(chan *runner.Result, 1)
			go func() {
				res, err := r.Run(ctx, runner.Options{Queries: cat.Queries})
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			most := 0
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && most < workers; {
				most = max(most, waiting())
				time.Sleep(20 * time.Millisecond)
			}
			for range 10 { // the budget holds for a while, not only once
				most = max(most, waiting())
				time.Sleep(30 * time.Millisecond)
			}
			if most != workers {
				t.Errorf("at most %d queries waited on the locked sources at once; want %d, the budget", most, workers)
			}
			for _, tx := range locks {
				if err := tx.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var res *runner.Result
			select {
			case res = <-done:
			case <-time.After(time.Minute):
				t.Fatal("the run did not end")
			}
			if res == nil || res.Status != history.RunSucceeded || len(res.Queries) != 2 {
				t.Fatalf("run: %+v", res)
			}
		})
	}
}
