package history

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
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
