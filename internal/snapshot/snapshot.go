// Package snapshot reads a source database as of one instant with several
// connections, for the runner's queries and the dump's tables alike.
//
// A coordinator ([Open]) begins a READ ONLY, REPEATABLE READ transaction
// on the source, reads the source's as-of time in it (an SQL expression:
// now(), or the time a restored backup was taken), refuses a source older
// than its max_age and exports its snapshot (pg_export_snapshot). Workers
// then open transactions of their own attached to it ([Attach], SET
// TRANSACTION SNAPSHOT): every one sees the data as the coordinator does,
// however the source changes meanwhile. The snapshot lives as long as the
// coordinator's transaction: close it ([Coordinator.Close]) after the
// workers.
//
// Errors never quote the connection string. The source's own errors pass
// through the caller's [Seal], which may withhold their text (the
// runner's SourceError); without one they are wrapped as they are.
package snapshot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Seal turns an error the source raised at stage (connect, begin,
// settings, as_of or snapshot) into the error to report. ctx is the
// context the statement ran under. A nil Seal keeps the error as it is.
type Seal func(ctx context.Context, stage string, err error) error

func (s Seal) seal(ctx context.Context, stage string, err error) error {
	if s == nil {
		return err
	}
	return s(ctx, stage, err)
}

// connectTimeout bounds how long [Connect] waits for a source.
const connectTimeout = 30 * time.Second

// closeTimeout bounds the cleanup of a connection or a transaction, which
// outlives the caller's cancellation.
const closeTimeout = 10 * time.Second

// Connect opens a connection to the source at url whose application_name,
// appName, shows in pg_stat_activity. A malformed url is refused without
// quoting it; a failed connection is seal's "connect" error, or "connect
// to the source: <the driver's error>" when seal is nil. It gives up after
// 30s.
func Connect(ctx context.Context, url, appName string, seal Seal) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the connection string.
		return nil, errors.New("parse the source URL: malformed connection string")
	}
	cfg.RuntimeParams["application_name"] = appName
	ctx, cancel := context.WithTimeoutCause(ctx, connectTimeout, fmt.Errorf("connect to the source: timed out after %s", connectTimeout))
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		if seal == nil {
			return nil, fmt.Errorf("connect to the source: %w", err)
		}
		return nil, seal(ctx, "connect", err)
	}
	return conn, nil
}

// CloseConn closes conn, within closeTimeout even when ctx is cancelled.
func CloseConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx) // nothing to keep on a read-only connection
}

// rollback ends tx, within closeTimeout even when ctx is cancelled.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	_ = tx.Rollback(ctx) // read-only: nothing to keep
}

// Config says how to open a coordinator. Zero values mean the documented
// defaults.
type Config struct {
	// URL is the source's connection string.
	URL string
	// ApplicationName is the coordinator's application_name.
	ApplicationName string
	// AsOf is an SQL expression giving the time the source's data is as
	// of, read in the snapshot. Default "now()".
	AsOf string
	// Idle is the coordinator's idle_in_transaction_session_timeout: it
	// sits idle while the workers read, and must outlive them. Default 0,
	// no limit.
	Idle time.Duration
	// MaxAge refuses a source whose as-of time is older, with a
	// *StaleError. Default 0, no limit.
	MaxAge time.Duration
	// Name names the source in a *StaleError.
	Name string
	// Now is the time the age is measured at. Default time.Now.
	Now func() time.Time
	// Seal seals the source's errors. Default: kept as they are.
	Seal Seal
}

// Coordinator is a source's coordinator transaction: it holds the exported
// snapshot the workers attach to.
type Coordinator struct {
	// ID is the exported snapshot's identifier, for [Attach].
	ID string
	// AsOf is the time the source's data is as of, in UTC.
	AsOf time.Time
	// Tx is the coordinator's transaction, in the snapshot: the caller may
	// read the source in it, as a worker would.
	Tx pgx.Tx

	conn *pgx.Conn
}

// Open opens a coordinator on the source: it begins the READ ONLY,
// REPEATABLE READ transaction, reads the source's as-of time in it,
// exports its snapshot and refuses it when it is older than cfg.MaxAge.
func Open(ctx context.Context, cfg Config) (*Coordinator, error) {
	asOfSQL := cmp.Or(cfg.AsOf, "now()")
	conn, err := Connect(ctx, cfg.URL, cfg.ApplicationName, cfg.Seal)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{conn: conn}
	fail := func(err error) (*Coordinator, error) {
		c.Close(ctx)
		return nil, err
	}
	c.Tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fail(fmt.Errorf("begin snapshot transaction: %w", cfg.Seal.seal(ctx, "begin", err)))
	}
	if _, err := c.Tx.Exec(ctx, "SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
		strconv.FormatInt(cfg.Idle.Milliseconds(), 10)); err != nil {
		return fail(fmt.Errorf("set idle timeout: %w", cfg.Seal.seal(ctx, "settings", err)))
	}
	var asOf *time.Time
	if err := c.Tx.QueryRow(ctx, "SELECT ("+asOfSQL+")::timestamptz").Scan(&asOf); err != nil {
		return fail(fmt.Errorf("read as_of (%s): %w", asOfSQL, cfg.Seal.seal(ctx, "as_of", err)))
	}
	if asOf == nil {
		return fail(fmt.Errorf("as_of (%s) is NULL: the source looks empty", asOfSQL))
	}
	c.AsOf = asOf.UTC()
	if err := c.Tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&c.ID); err != nil {
		return fail(fmt.Errorf("export snapshot: %w", cfg.Seal.seal(ctx, "snapshot", err)))
	}
	if cfg.MaxAge > 0 {
		now := time.Now
		if cfg.Now != nil {
			now = cfg.Now
		}
		if age := now().Sub(c.AsOf); age > cfg.MaxAge {
			return fail(&StaleError{Source: cfg.Name, AsOf: c.AsOf, By: asOfSQL, Age: age, MaxAge: cfg.MaxAge})
		}
	}
	return c, nil
}

// Close rolls the coordinator's transaction back, which ends its snapshot,
// and closes its connection, even when ctx is cancelled.
func (c *Coordinator) Close(ctx context.Context) {
	if c.Tx != nil {
		rollback(ctx, c.Tx)
	}
	CloseConn(ctx, c.conn)
}

// StaleError refuses a source whose data is older than its max_age.
type StaleError struct {
	// Source is the source's name (Config.Name).
	Source string
	// AsOf is the source's as-of time, read by the expression By.
	AsOf time.Time
	By   string
	// Age is how old the data was when the snapshot was opened.
	Age, MaxAge time.Duration
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("source %s is %s old (as of %s, by %s); max_age is %s: refusing to load stale numbers",
		e.Source, e.Age.Round(time.Minute), e.AsOf.UTC().Format(time.RFC3339), e.By, e.MaxAge)
}

// Attach begins a READ ONLY, REPEATABLE READ transaction on conn attached
// to the snapshot id a [Coordinator] exported. A failure to begin is
// seal's "begin" error, or "begin: <the driver's error>" when seal is nil;
// a failure to attach is an *AttachError.
func Attach(ctx context.Context, conn *pgx.Conn, id string, seal Seal) (pgx.Tx, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		if seal == nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		return nil, seal(ctx, "begin", err)
	}
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(id)); err != nil {
		rollback(ctx, tx)
		var pgErr *pgconn.PgError
		lost := errors.As(err, &pgErr) && pgErr.Code == "22023" // invalid_parameter_value: no such snapshot
		return nil, &AttachError{Lost: lost, Err: seal.seal(ctx, "snapshot", err)}
	}
	return tx, nil
}

// AttachError is a failure to attach a transaction to an exported
// snapshot. Callers say whose snapshot it was ("attach to the run's
// snapshot: …").
type AttachError struct {
	// Lost says the snapshot no longer exists: the coordinator's session
	// ended (the source restarted, the coordinator was closed).
	Lost bool
	// Err is the source's error, sealed.
	Err error
}

func (e *AttachError) Error() string { return "attach to the snapshot: " + e.Err.Error() }

func (e *AttachError) Unwrap() error { return e.Err }

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
