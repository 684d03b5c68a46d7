package history

import "testing"

// TestDumpLock: one holder at a time, free again after release, and apart
// from the run lock.
func TestDumpLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	release, ok, err := s.TryDumpLock(ctx)
	if err != nil || !ok {
		t.Fatalf("first TryDumpLock: %v, %v", ok, err)
	}
	if _, ok, err := s.TryDumpLock(ctx); err != nil || ok {
		t.Fatalf("second TryDumpLock while held: %v, %v; want not taken", ok, err)
	}
	runRelease, ok, err := s.TryRunLock(ctx)
	if err != nil || !ok {
		t.Fatalf("run lock while the dump lock is held: %v, %v; want taken", ok, err)
	}
	runRelease()
	release()
	release() // twice is safe
	again, ok, err := s.TryDumpLock(ctx)
	if err != nil || !ok {
		t.Fatalf("TryDumpLock after release: %v, %v", ok, err)
	}
	again()
}
