package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
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
	conn, ok, err := s.tryLockConn(ctx, runLockKey, "run lock")
	if err != nil || !ok {
		return nil, ok, err
	}
	return unlocker(ctx, conn, runLockKey), true, nil
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
	return unlocker(ctx, conn, runLockKey), nil
}

// unlocker returns the release function of the advisory lock key held by
// conn's session. When the unlock itself fails, the connection is
// discarded instead of returned to the pool, which ends the session and
// with it the lock.
func unlocker(ctx context.Context, conn *sql.Conn, key int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			var unlocked bool
			err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked)
			if err != nil || !unlocked {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			_ = conn.Close()
		})
	}
}

// ErrRunLockLost is the error of a watched run lock whose session ended
// (the history database restarted, the connection broke) and that could
// not be taken again: another session may hold it and be making a run.
var ErrRunLockLost = errors.New("run lock lost: history database connection closed")

// DefaultLockWatch is how often a watched run lock checks its session.
const DefaultLockWatch = 2 * time.Second

// relockWithin bounds how long a lost run lock is tried again (the history
// database may still be starting after a restart).
const relockWithin = 5 * time.Second

// RunLock is a run lock whose session is watched: it is checked every
// watch interval in the background and by every call to Check, and when
// the session is gone (the lock with it) the lock is taken again on a new
// session. When that fails — another session took it, or the database
// does not answer within a few seconds — the lock is lost for good: Check
// returns an error wrapping ErrRunLockLost and Lost is closed.
type RunLock struct {
	s      *Store
	mu     sync.Mutex // guards conn, err, closed; serializes the checks
	conn   *sql.Conn
	err    error
	lost   chan struct{}
	done   chan struct{}
	closed bool
}

// TryWatchedRunLock takes the run lock as TryRunLock does, and watches its
// session every watch (DefaultLockWatch when not positive) until Release.
// ok is false when another session holds the lock.
func (s *Store) TryWatchedRunLock(ctx context.Context, watch time.Duration) (*RunLock, bool, error) {
	conn, ok, err := s.tryLockConn(ctx, runLockKey, "run lock")
	if err != nil || !ok {
		return nil, ok, err
	}
	l := &RunLock{s: s, conn: conn, lost: make(chan struct{}), done: make(chan struct{})}
	if watch <= 0 {
		watch = DefaultLockWatch
	}
	go l.watch(watch)
	return l, true, nil
}

// tryLockConn takes the advisory lock key (named what in errors) on a
// connection of its own, without waiting; ok is false when another
// session holds it.
func (s *Store) tryLockConn(ctx context.Context, key int64, what string) (*sql.Conn, bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("take %s on %s: %w", what, s.where, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		discard(conn)
		return nil, false, fmt.Errorf("take %s on %s: %w", what, s.where, err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	return conn, true, nil
}

// discard closes conn without returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

func (l *RunLock) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-l.lost:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeoutCause(context.Background(), relockWithin+every,
				errors.New("check the run lock: no answer in time"))
			_ = l.Check(ctx)
			cancel()
		}
	}
}

// Check makes sure the lock is still held: it pings the lock's session
// and, when the session is gone, takes the lock again on a new one. It
// returns nil while the lock is held, else an error wrapping
// ErrRunLockLost, for good (a lock lost once is not taken back, so that a
// run that lost it does not go on beside another replica's).
func (l *RunLock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.closed {
		return fmt.Errorf("%w: released", ErrRunLockLost)
	}
	pingCtx, cancel := context.WithTimeoutCause(ctx, relockWithin, errors.New("ping the run lock's session: no answer within 5s"))
	err := l.conn.PingContext(pingCtx)
	cancel()
	if err == nil {
		return nil
	}
	discard(l.conn) // the session, and the lock with it, is gone
	l.conn = nil
	deadline := time.Now().Add(relockWithin)
	for {
		conn, ok, err := l.s.tryLockConn(ctx, runLockKey, "run lock")
		switch {
		case err == nil && ok:
			l.conn = conn
			return nil
		case err == nil:
			l.err = fmt.Errorf("%w; another session holds it now", ErrRunLockLost)
		case time.Now().After(deadline) || ctx.Err() != nil:
			l.err = fmt.Errorf("%w; take it again: %w", ErrRunLockLost, err)
		default:
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond): // the database is starting again
			}
			continue
		}
		close(l.lost)
		return l.err
	}
}

// Lost is closed when the lock is lost for good (see Check).
func (l *RunLock) Lost() <-chan struct{} { return l.lost }

// Release releases the lock and stops the watch; it is safe to call more
// than once and works after ctx is cancelled.
func (l *RunLock) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	close(l.done)
	if l.conn != nil {
		unlocker(context.Background(), l.conn, runLockKey)()
		l.conn = nil
	}
}
