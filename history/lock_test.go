package history

import (
	"testing"
	"time"
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
