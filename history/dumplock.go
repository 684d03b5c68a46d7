package history

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

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
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("take dump lock on %s: %w", s.where, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", dumpLockKey).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, false, fmt.Errorf("take dump lock on %s: %w", s.where, err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			var unlocked bool
			if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", dumpLockKey).Scan(&unlocked); err != nil || !unlocked {
				// Discard the session: its end drops the lock.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			_ = conn.Close()
		})
	}, true, nil
}
