package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

// runLockKey is the PostgreSQL advisory lock that makes one run at a time
// across every metricgate serve replica on one history database: the
// ASCII bytes "MGRUNLK1" read as a big-endian integer, distinct from
// goose's migration lock.
const runLockKey int64 = 0x4d47_5255_4e4c_4b31 // "MGRUNLK1"

// TryRunLock takes the run lock if no other session holds it, without
// waiting. ok is false when another session (another replica) holds it.
// When ok, the lock is held by a session of its own — a connection taken
// out of the pool for as long as the lock is held — until release is
// called; release is safe to call more than once and works after ctx is
// cancelled. A lock dies with its connection: a process that is killed,
// or whose database restarts, drops it.
func (s *Store) TryRunLock(ctx context.Context) (release func(), ok bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("take run lock on %s: %w", s.where, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", runLockKey).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, false, fmt.Errorf("take run lock on %s: %w", s.where, err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	return unlocker(ctx, conn), true, nil
}

// RunLock takes the run lock, waiting for it as long as ctx allows (while
// another replica is in the middle of a run). See TryRunLock.
func (s *Store) RunLock(ctx context.Context) (release func(), err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take run lock on %s: %w", s.where, err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", runLockKey); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("take run lock on %s: %w", s.where, err)
	}
	return unlocker(ctx, conn), nil
}

// unlocker returns the release function of a lock held by conn's session.
// When the unlock itself fails, the connection is discarded instead of
// returned to the pool, which ends the session and with it the lock.
func unlocker(ctx context.Context, conn *sql.Conn) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			var unlocked bool
			err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", runLockKey).Scan(&unlocked)
			if err != nil || !unlocked {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			_ = conn.Close()
		})
	}
}
