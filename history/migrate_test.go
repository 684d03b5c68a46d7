package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/internal/coarse"
)

// tables returns the history tables present in the public schema.
func tables(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(),
		`SELECT table_name FROM information_schema.tables
		 WHERE table_schema = 'public' AND table_name IN ('runs', 'query_runs') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func checkStatus(t *testing.T, s *Store, applied bool) {
	t.Helper()
	st, err := s.MigrateStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 || st[0].Version != 1 || st[0].Name != "00001_history.sql" {
		t.Fatalf("status = %+v, want 00001_history.sql first", st)
	}
	for _, m := range st {
		if m.Applied != applied {
			t.Errorf("%s applied = %v, want %v", m.Name, m.Applied, applied)
		}
		if applied && time.Since(m.AppliedAt).Abs() > time.Hour {
			t.Errorf("%s applied at %v, want about now", m.Name, m.AppliedAt)
		}
		if !applied && !m.AppliedAt.IsZero() {
			t.Errorf("pending %s applied at %v, want zero", m.Name, m.AppliedAt)
		}
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, false)

	checkStatus(t, s, false)
	if got := tables(t, s); len(got) != 0 {
		t.Fatalf("tables before migrating: %v", got)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkStatus(t, s, true)
	if got := tables(t, s); len(got) != 2 {
		t.Fatalf("tables after up: %v, want query_runs and runs", got)
	}
	if err := s.Migrate(ctx); err != nil { // nothing pending: no error
		t.Fatalf("second up: %v", err)
	}

	// Roll back every migration, one at a time, then one too many.
	st, _ := s.MigrateStatus(ctx)
	for range st {
		if err := s.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkStatus(t, s, false)
	if got := tables(t, s); len(got) != 0 {
		t.Fatalf("tables after down: %v", got)
	}
	if err := s.MigrateDown(ctx); !errors.Is(err, ErrNoMigration) {
		t.Fatalf("down with nothing applied: %v, want ErrNoMigration", err)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkStatus(t, s, true)
	if _, err := s.StartRun(ctx, Run{Trigger: "manual", StartedAt: time.Now()}); err != nil {
		t.Fatalf("start run after down and up: %v", err)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	a, dsn := newStore(t, false)
	b, err := Open(t.Context(), dsn) // a pool of its own, like another process
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	start := make(chan struct{})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(context.Background())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
	var applied int
	err = a.db.QueryRowContext(t.Context(),
		`SELECT count(*) FROM goose_db_version WHERE version_id = 1 AND is_applied`).Scan(&applied)
	if err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want once", applied)
	}
	checkStatus(t, b, true)
}

// TestMigrateCountsToDecades: 00005 turns the exact numbers of suppressed
// rows already in the history into decades, and back down into each
// decade's lowest value (the exact numbers are gone).
func TestMigrateCountsToDecades(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	for { // down to 00004, whatever came after 00005
		st, err := s.MigrateStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		newest := int64(0)
		for _, m := range st {
			if m.Applied {
				newest = m.Version
			}
		}
		if newest <= 4 {
			break
		}
		if err := s.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	id := mustStartRun(t, s, Run{Trigger: "manual", StartedAt: time.Now()})
	exact := []int64{0, 1, 9, 10, 17, 99, 100, 999, 1000, 123456}
	for _, n := range exact {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO query_runs (run_id, query, status, rows_suppressed) VALUES ($1, $2, 'succeeded', $3)`,
			id, fmt.Sprint("q", n), n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	qs, err := s.QueryRuns(ctx, id)
	if err != nil || len(qs) != len(exact) {
		t.Fatalf("%d query runs, %v", len(qs), err)
	}
	for i, q := range qs {
		if want := coarse.Of(exact[i]); q.RowsSuppressed != want || q.CellsSuppressed != "0" {
			t.Errorf("%d suppressed rows became %q (cells %q), want %q", exact[i], q.RowsSuppressed, q.CellsSuppressed, want)
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE query_runs SET rows_suppressed = '17' WHERE run_id = $1`, id); err == nil {
		t.Error("the history takes an exact count")
	}
	if err := s.MigrateDown(ctx); err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := s.db.QueryRowContext(ctx, `SELECT sum(rows_suppressed) FROM query_runs WHERE run_id = $1`, id).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 0+1+1+10+10+10+100+100+1000+100000 {
		t.Errorf("down: the decades' lowest values sum to %d", sum)
	}
}
