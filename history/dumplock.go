package history

import "context"

// dumpLockKey is the PostgreSQL advisory lock that makes one dump at a
// time across every metricgate serve replica on one history database: the
// ASCII bytes "MGDUMPL1" read as a big-endian integer, distinct from the
// run lock, so that dumps and query runs do not wait for each other.
const dumpLockKey int64 = 0x4d47_4455_4d50_4c31 // "MGDUMPL1"

// TryDumpLock takes the dump lock if no other session holds it, without
// waiting; ok is false when another replica holds it. As for TryRunLock,
// the lock is held by a connection of its own until release, which is
// safe to call more than once and after ctx is cancelled, and dies with
// the connection.
func (s *Store) TryDumpLock(ctx context.Context) (release func(), ok bool, err error) {
	conn, ok, err := s.tryLockConn(ctx, dumpLockKey, "dump lock")
	if err != nil || !ok {
		return nil, ok, err
	}
	return unlocker(ctx, conn, dumpLockKey), true, nil
}
