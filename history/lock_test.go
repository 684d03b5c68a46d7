package history

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

func TestRunLock(t *testing.T) {
	t.Parallel()
	a, dsn := newStore(t, false)
	b, err := Open(t.Context(), dsn) // a second process: its own sessions
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })

	releaseA, ok, err := a.TryRunLock(t.Context())
	if err != nil || !ok {
		t.Fatalf("first TryRunLock: ok %v, err %v", ok, err)
	}
	if _, ok, err := b.TryRunLock(t.Context()); err != nil || ok {
		t.Fatalf("TryRunLock while another session holds it: ok %v, err %v; want false", ok, err)
	}
	// The same store's other connections are other sessions too.
	if _, ok, err := a.TryRunLock(t.Context()); err != nil || ok {
		t.Fatalf("TryRunLock on another connection of the holder's pool: ok %v, err %v; want false", ok, err)
	}

	got := make(chan func(), 1)
	go func() {
		release, err := b.RunLock(t.Context())
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- release
	}()
	select {
	case <-got:
		t.Fatal("RunLock returned while the lock was held")
	case <-time.After(200 * time.Millisecond): // a negative check: give it a chance to be wrong
	}
	releaseA()
	releaseA() // twice is harmless
	releaseB, ok := <-got
	if !ok {
		t.Fatal("RunLock failed")
	}
	if _, ok, err := a.TryRunLock(t.Context()); err != nil || ok {
		t.Fatalf("TryRunLock while RunLock's session holds it: ok %v, err %v; want false", ok, err)
	}
	releaseB()
	releaseA2, ok, err := a.TryRunLock(t.Context())
	if err != nil || !ok {
		t.Fatalf("TryRunLock after both released: ok %v, err %v", ok, err)
	}
	releaseA2()
}

// TestWatchedRunLock: a watched lock whose session ends is taken again on
// a new session when nobody else took it (and another session then cannot
// take it); when another session took it first, the lock is lost for good
// (Check says so with ErrRunLockLost, Lost is closed, and a later Check
// does not take it back); Release stops it all.
func TestWatchedRunLock(t *testing.T) {
	t.Parallel()
	a, dsn := newStore(t, false)
	b, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	admin := pgtest.Connect(t, dsn)
	// endSession ends the session holding the run lock, as a restart of
	// the history database does.
	endSession := func() {
		t.Helper()
		var n int
		if err := admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("end the lock's session: %d sessions, %v", n, err)
		}
	}

	lock, ok, err := a.TryWatchedRunLock(t.Context(), time.Hour) // checked by hand below
	if err != nil || !ok {
		t.Fatalf("TryWatchedRunLock: ok %v, err %v", ok, err)
	}
	if err := lock.Check(t.Context()); err != nil {
		t.Fatalf("Check of a held lock: %v", err)
	}
	endSession()
	if err := lock.Check(t.Context()); err != nil {
		t.Fatalf("Check after the session ended, nobody else holding the lock: %v; want it taken again", err)
	}
	if _, ok, err := b.TryRunLock(t.Context()); err != nil || ok {
		t.Fatalf("TryRunLock of another session after the lock was taken again: ok %v, err %v; want false", ok, err)
	}

	endSession()
	releaseB, ok, err := b.TryRunLock(t.Context())
	if err != nil || !ok {
		t.Fatalf("TryRunLock of another session once the holder's session ended: ok %v, err %v", ok, err)
	}
	err = lock.Check(t.Context())
	if !errors.Is(err, ErrRunLockLost) || !strings.Contains(err.Error(), "another session holds it") {
		t.Fatalf("Check once another session holds the lock: %v", err)
	}
	select {
	case <-lock.Lost():
	default:
		t.Error("Lost is not closed")
	}
	releaseB()
	if err := lock.Check(t.Context()); !errors.Is(err, ErrRunLockLost) {
		t.Errorf("Check after the other session released it: %v; a lost lock stays lost", err)
	}
	lock.Release()
	lock.Release() // twice is harmless
	releaseA, ok, err := a.TryRunLock(t.Context())
	if err != nil || !ok {
		t.Fatalf("TryRunLock after all released: ok %v, err %v", ok, err)
	}
	releaseA()
}

// TestWatchedRunLockWatches: the background watch notices a lost lock by
// itself, without a Check.
func TestWatchedRunLockWatches(t *testing.T) {
	t.Parallel()
	a, dsn := newStore(t, false)
	lock, ok, err := a.TryWatchedRunLock(t.Context(), 20*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("TryWatchedRunLock: ok %v, err %v", ok, err)
	}
	defer lock.Release()
	admin, waiter := pgtest.Connect(t, dsn), pgtest.Connect(t, dsn)
	// Another session waits for the lock, so that it is granted the lock
	// the moment the holder's session ends, before the watch can take it.
	got := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(t.Context(), "SELECT pg_advisory_lock($1)", runLockKey)
		got <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var waiting bool
		if err := admin.QueryRow(t.Context(), `SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other session never waited for the lock")
		}
		time.Sleep(10 * time.Millisecond) // polling the server's view
	}
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid, 5000) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	select {
	case <-lock.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("the watch did not notice the lost lock")
	}
}
