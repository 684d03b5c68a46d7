package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"gitlab.com/metricgate/metricgate/history/internal/db"
	"gitlab.com/metricgate/metricgate/internal/coarse"
	"gitlab.com/metricgate/metricgate/internal/redact"
)

// Store is the run history in a PostgreSQL database. Its methods are safe
// for concurrent use. Times are stored with PostgreSQL's microsecond
// resolution (finer parts are truncated) and read back in UTC; a zero
// time.Time is stored as NULL and read back as zero.
type Store struct {
	db *sql.DB
	q  *db.Queries
	// where names the database without credentials, for errors.
	where string
}

// The pool is small: the history is a few writes per query run and the
// status API's reads.
const (
	maxOpenConns = 10
	maxIdleConns = 4
)

// Open connects to the history database at url (a postgres:// URL or a
// key=value connection string, read by pgx), checks the connection and
// returns the store, which holds a pool of at most 10 connections. Errors name the database by host and name only: they
// never contain the password.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open history database: %w", hideSecret(err, url))
	}
	s := &Store{db: stdlib.OpenDB(*cfg), q: db.New(), where: describe(cfg)}
	s.db.SetMaxOpenConns(maxOpenConns)
	s.db.SetMaxIdleConns(maxIdleConns)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	if err := s.db.PingContext(ctx); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("open history database %s: %w", s.where, hideSecret(err, cfg.Password))
	}
	return s, nil
}

// describe names a database as host:port/name.
func describe(cfg *pgx.ConnConfig) string {
	return cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database
}

// hideSecret returns err with every occurrence of secret in its message
// replaced, keeping err in the chain for errors.Is and errors.As. Driver
// errors are not known to quote passwords, but a parse error may quote its
// input.
func hideSecret(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{err: err, msg: strings.ReplaceAll(err.Error(), secret, "xxxxx")}
}

type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Close closes the connection pool.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close history database %s: %w", s.where, err)
	}
	return nil
}

// Ping checks that the history database is reachable (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping history database %s: %w", s.where, err)
	}
	return nil
}

// StartRun records a new run and returns its id. The status is r.Status
// (normally [RunRunning]; empty means running); a zero r.StartedAt means
// now. r.ID and the counts are ignored.
func (s *Store) StartRun(ctx context.Context, r Run) (int64, error) {
	status := r.Status
	if status == "" {
		status = RunRunning
	}
	started := r.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	id, err := s.q.InsertRun(ctx, s.db, db.InsertRunParams{
		Trigger:    r.Trigger,
		Approval:   r.Approval,
		Status:     string(status),
		Error:      redact.String(r.Error),
		StartedAt:  started.Truncate(time.Microsecond),
		FinishedAt: nullTime(r.FinishedAt),
	})
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}
	return id, nil
}

// FinishRun sets the final status, error text and finish time of run id.
// It returns [ErrNotFound] when there is no such run.
func (s *Store) FinishRun(ctx context.Context, id int64, status RunStatus, errText string, finishedAt time.Time) error {
	n, err := s.q.FinishRun(ctx, s.db, db.FinishRunParams{
		ID:         id,
		Status:     string(status),
		Error:      redact.String(errText),
		FinishedAt: nullTime(finishedAt),
	})
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

// StartQueryRun records a query run of run q.RunID as given — running, or
// already final such as a skipped query — and returns its id. q.ID is
// ignored.
func (s *Store) StartQueryRun(ctx context.Context, q QueryRun) (int64, error) {
	attempts, err := int32Of(q.Attempts)
	if err != nil {
		return 0, fmt.Errorf("start query run %q: %w", q.Query, err)
	}
	id, err := s.q.InsertQueryRun(ctx, s.db, db.InsertQueryRunParams{
		RunID:           q.RunID,
		Query:           q.Query,
		Target:          q.Target,
		Source:          q.Source,
		Status:          string(q.Status),
		Error:           redact.String(q.Error),
		RowsLoaded:      q.RowsLoaded,
		RowsSuppressed:  q.RowsSuppressed.String(),
		CellsSuppressed: q.CellsSuppressed.String(),
		Attempts:        attempts,
		Cost:            q.Cost,
		Sha256:          q.SHA256,
		Commit:          q.Commit,
		Approval:        q.Approval,
		SnapshotTime:    nullTime(q.SnapshotTime),
		StartedAt:       nullTime(q.StartedAt),
		FinishedAt:      nullTime(q.FinishedAt),
		DurationUs:      q.Duration.Microseconds(),
		MrIid:           nullInt64(q.MRIID),
	})
	if err != nil {
		return 0, fmt.Errorf("start query run %q: %w", q.Query, err)
	}
	return id, nil
}

// FinishQueryRun updates every field of query run q.ID but its identity
// (ID, RunID, Query) to the values in q. It returns [ErrNotFound] when there
// is no such query run.
func (s *Store) FinishQueryRun(ctx context.Context, q QueryRun) error {
	attempts, err := int32Of(q.Attempts)
	if err == nil {
		var n int64
		n, err = s.q.UpdateQueryRun(ctx, s.db, db.UpdateQueryRunParams{
			ID:              q.ID,
			Target:          q.Target,
			Source:          q.Source,
			Status:          string(q.Status),
			Error:           redact.String(q.Error),
			RowsLoaded:      q.RowsLoaded,
			RowsSuppressed:  q.RowsSuppressed.String(),
			CellsSuppressed: q.CellsSuppressed.String(),
			Attempts:        attempts,
			Cost:            q.Cost,
			Sha256:          q.SHA256,
			Commit:          q.Commit,
			Approval:        q.Approval,
			SnapshotTime:    nullTime(q.SnapshotTime),
			StartedAt:       nullTime(q.StartedAt),
			FinishedAt:      nullTime(q.FinishedAt),
			DurationUs:      q.Duration.Microseconds(),
			MrIid:           nullInt64(q.MRIID),
		})
		if err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("finish query run %d: %w", q.ID, err)
	}
	return nil
}

// Run returns run id with its query-run counts. It returns [ErrNotFound]
// when there is no such run.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	row, err := s.q.GetRun(ctx, s.db, id)
	if err != nil {
		return Run{}, fmt.Errorf("read run %d: %w", id, notFound(err))
	}
	return runOf(row), nil
}

// Runs returns the newest runs first, at most limit of them (all when limit
// is zero or negative), with their query-run counts.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.q.ListRuns(ctx, s.db, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	runs := make([]Run, len(rows))
	for i, row := range rows {
		runs[i] = runOf(db.GetRunRow(row))
	}
	return runs, nil
}

// QueryRuns returns the query runs of run runID in the order they were
// started. An unknown run has none.
func (s *Store) QueryRuns(ctx context.Context, runID int64) ([]QueryRun, error) {
	rows, err := s.q.ListQueryRuns(ctx, s.db, runID)
	if err != nil {
		return nil, fmt.Errorf("list query runs of run %d: %w", runID, err)
	}
	return queryRunsOf(rows), nil
}

// QueryHistory returns the runs of the query named query, newest first, at
// most limit of them (all when limit is zero or negative).
func (s *Store) QueryHistory(ctx context.Context, query string, limit int) ([]QueryRun, error) {
	rows, err := s.q.QueryHistory(ctx, s.db, db.QueryHistoryParams{Query: query, MaxRows: limitOf(limit)})
	if err != nil {
		return nil, fmt.Errorf("list history of query %q: %w", query, err)
	}
	return queryRunsOf(rows), nil
}

// LatestQueryRuns returns the newest query run of every query name that
// has one, whatever its status, ordered by query name.
func (s *Store) LatestQueryRuns(ctx context.Context) ([]QueryRun, error) {
	rows, err := s.q.LatestQueryRuns(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("list latest query runs: %w", err)
	}
	return queryRunsOf(rows), nil
}

// LastSuccess returns the newest succeeded run of the query named query,
// or [ErrNotFound] when it never succeeded.
func (s *Store) LastSuccess(ctx context.Context, query string) (QueryRun, error) {
	row, err := s.q.LastSuccess(ctx, s.db, query)
	if err != nil {
		return QueryRun{}, fmt.Errorf("read last success of query %q: %w", query, notFound(err))
	}
	return queryRunOf(row), nil
}

// LastSuccessPerSource returns the newest succeeded run of the query
// named query on each source it ever succeeded on, ordered by source; none
// when it never succeeded.
func (s *Store) LastSuccessPerSource(ctx context.Context, query string) ([]QueryRun, error) {
	rows, err := s.q.LastSuccessPerSource(ctx, s.db, query)
	if err != nil {
		return nil, fmt.Errorf("read last successes of query %q: %w", query, err)
	}
	return queryRunsOf(rows), nil
}

// SuccessesSince returns the succeeded runs of the query named query that
// finished at or after since, and the newest one of each source before,
// oldest first: what its data was over a window (schedule.Attainment).
func (s *Store) SuccessesSince(ctx context.Context, query string, since time.Time) ([]QueryRun, error) {
	rows, err := s.q.SuccessesSince(ctx, s.db, db.SuccessesSinceParams{QueryName: query, Since: since})
	if err != nil {
		return nil, fmt.Errorf("list successes of query %q since %s: %w", query, since.Format(time.RFC3339), err)
	}
	return queryRunsOf(rows), nil
}

// AbandonRunning marks every run and query run still running as failed,
// with reason as the error and now as the finish time, and returns how many
// runs it marked. It is for start-up, after a process died mid-run: call it
// only while holding the run lock, or it fails the live run of another
// replica.
func (s *Store) AbandonRunning(ctx context.Context, reason string) (n int64, err error) {
	now := time.Now().Truncate(time.Microsecond)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("abandon running runs: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err = s.q.AbandonQueryRuns(ctx, tx, db.AbandonQueryRunsParams{Reason: reason, FinishedAt: now}); err != nil {
		return 0, fmt.Errorf("abandon running query runs: %w", err)
	}
	if n, err = s.q.AbandonRuns(ctx, tx, db.AbandonRunsParams{Reason: reason, FinishedAt: now}); err != nil {
		return 0, fmt.Errorf("abandon running runs: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return 0, fmt.Errorf("abandon running runs: %w", err)
	}
	return n, nil
}

// notFound maps the driver's "no rows" to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func runOf(r db.GetRunRow) Run {
	return Run{
		ID:         r.ID,
		Trigger:    r.Trigger,
		Approval:   r.Approval,
		Status:     RunStatus(r.Status),
		Error:      redact.String(r.Error),
		StartedAt:  r.StartedAt.UTC(),
		FinishedAt: timeOf(r.FinishedAt),
		Queries:    int(r.Queries),
		Succeeded:  int(r.Succeeded),
		Failed:     int(r.Failed),
		Skipped:    int(r.Skipped),
	}
}

func queryRunsOf(rows []db.QueryRun) []QueryRun {
	out := make([]QueryRun, len(rows))
	for i, r := range rows {
		out[i] = queryRunOf(r)
	}
	return out
}

func queryRunOf(r db.QueryRun) QueryRun {
	return QueryRun{
		ID:              r.ID,
		RunID:           r.RunID,
		Query:           r.Query,
		Target:          r.Target,
		Source:          r.Source,
		Status:          QueryStatus(r.Status),
		Error:           redact.String(r.Error),
		RowsLoaded:      r.RowsLoaded,
		RowsSuppressed:  coarse.Count(r.RowsSuppressed),
		CellsSuppressed: coarse.Count(r.CellsSuppressed),
		Attempts:        int(r.Attempts),
		Cost:            r.Cost,
		SHA256:          r.Sha256,
		Commit:          r.Commit,
		Approval:        r.Approval,
		SnapshotTime:    timeOf(r.SnapshotTime),
		StartedAt:       timeOf(r.StartedAt),
		FinishedAt:      timeOf(r.FinishedAt),
		Duration:        time.Duration(r.DurationUs) * time.Microsecond,
		MRIID:           r.MrIid.Int64,
	}
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.Truncate(time.Microsecond), Valid: true}
}

// timeOf reads NULL as the zero time, and times in UTC.
func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// limitOf turns a limit of zero or less into "no limit" (SQL NULL).
func limitOf(limit int) sql.NullInt32 {
	if limit <= 0 {
		return sql.NullInt32{}
	}
	return sql.NullInt32{Int32: int32(min(limit, math.MaxInt32)), Valid: true}
}

func int32Of(n int) (int32, error) {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("attempts %d out of range", n)
	}
	return int32(n), nil
}
