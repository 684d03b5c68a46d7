package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/coarse"
	"gitlab.com/metricgate/metricgate/internal/snapshot"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// connect opens a connection to a source with an application_name that
// shows in pg_stat_activity. Its errors are sealed (SourceError).
func connect(ctx context.Context, src Source, appName string) (*pgx.Conn, error) {
	return snapshot.Connect(ctx, src.URL, appName, newSealer(src).snapshotSeal())
}

// snapshotSeal seals the errors of package snapshot, which are never of
// a statement of the query's text.
func (s sealer) snapshotSeal() snapshot.Seal {
	return func(ctx context.Context, stage string, err error) error { return s.seal(ctx, stage, err, nil) }
}

// worker runs queries one after another on its own connection, each in a
// transaction attached to the source's snapshot.
type worker struct {
	r       *Runner
	src     Source
	snaps   *snapshots
	snap    *snapshot.Coordinator // the one of the job at hand
	appName string
	conn    *pgx.Conn
}

func (w *worker) close(ctx context.Context) {
	if w.conn != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = w.conn.Close(ctx)
		w.conn = nil
	}
}

// run executes j with retries of transient errors and loads its result.
func (w *worker) run(ctx context.Context, log *slog.Logger, runID int64, source string, j *job) {
	q := j.query
	backoff := w.r.cfg.Backoff
	limit := w.r.cfg.Attempts
	for attempt := 1; ; attempt++ {
		j.qr.Attempts = attempt
		err := w.attempt(ctx, runID, source, j)
		if err == nil {
			j.qr.Status, j.qr.Error, j.transient = history.QuerySucceeded, "", false
			return
		}
		j.qr.Status, j.qr.Error = history.QueryFailed, err.Error()
		var lost *snapshotLostError
		if errors.As(err, &lost) && ctx.Err() == nil {
			// The snapshot died with the coordinator's session (the source
			// restarted): go on with a fresh one, if the run may have it.
			snap, ok := w.snaps.renew(ctx, w.snap)
			if !ok {
				j.transient = true
				return
			}
			if snap != w.snap {
				w.snap, j.qr.SnapshotTime = snap, snap.AsOf
				limit++ // the attempt on a dead snapshot does not count
				log.Warn("query goes on with a fresh snapshot", slog.String("query", q.Name),
					slog.Time("as_of", snap.AsOf))
				continue
			}
		}
		j.transient = transient(err) || attempt > 1
		if !transient(err) || attempt >= limit || ctx.Err() != nil {
			return
		}
		log.Warn("query failed, retrying", slog.String("query", q.Name), slog.Int("attempt", attempt),
			slog.Duration("backoff", backoff), slog.String("error", err.Error()))
		w.close(ctx) // the connection may be dead: start afresh
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// attempt runs the query once: EXPLAIN and the cost limit, the query in the
// snapshot, the type rule on the result's columns, the group-size filter on
// every row, max_rows, and the load into the rows of source (the source's
// name, stamped in _source). The filter sees this source's rows only: a
// group is never merged with another source's before it is filtered.
func (w *worker) attempt(ctx context.Context, runID int64, source string, j *job) error {
	q := j.query
	limit, err := maxCost(w.src, q)
	if err != nil {
		return err
	}
	if w.conn == nil || w.conn.IsClosed() {
		conn, err := connect(ctx, w.src, w.appName)
		if err != nil {
			return err
		}
		w.conn = conn
	}
	// The server's statement_timeout is the query's timeout; the client
	// gives it a little more so that the server's message wins.
	ctx, cancel := context.WithTimeoutCause(ctx, q.Timeout+30*time.Second,
		fmt.Errorf("query %s: no answer within its timeout %s", q.Name, q.Timeout))
	defer cancel()
	ex, err := begin(ctx, w.conn, w.snap.ID, w.r.cfg, w.src, q, fmt.Sprintf("%s %s", w.appName, q.Name))
	if err != nil {
		return err
	}
	defer ex.rollback(ctx)
	if ex.tempFileLimitDenied {
		w.r.warnTempFileLimit(w.src)
	}
	ex.sql, ex.toFile = j.analysis.SQL(q.MinGroupSize), j.analysis.SourceOffset

	cost, err := ex.explain(ctx)
	if err != nil {
		return err
	}
	// The cost is published, and checked against the limit, to two
	// significant digits (coarse.Cost): a header max_cost moved run by run
	// must not read the exact cost.
	j.qr.Cost = coarse.Cost(cost)
	if coarse.Cost(cost) > limit { // the shown cost decides: bisecting max_cost tells no more than plan
		return fmt.Errorf("EXPLAIN cost %.0f is above max_cost %s: not run", coarse.Cost(cost), formatCost(limit))
	}
	res, err := ex.query(ctx, j.analysis)
	if err != nil {
		if res != nil {
			res.close()
		}
		return err
	}
	defer res.close()
	load := warehouse.Load{Table: q.Target, Mode: warehouse.Mode(q.Load), Columns: res.columns,
		Provenance: warehouse.Provenance{SnapshotDate: w.snap.AsOf, RunID: runID, QuerySHA256: q.SHA256,
			Commit: j.qr.Commit, LoadedAt: w.r.now(), MRIID: j.qr.MRIID, Source: source}}
	n, werr := w.r.writer.Write(ctx, load, res)
	// What the filter hid is published only as a decade (package coarse).
	j.qr.RowsLoaded = res.filter.Kept
	j.qr.RowsSuppressed, j.qr.CellsSuppressed = coarse.Of(res.filter.Dropped), coarse.Of(res.filter.Cells)
	if res.err != nil || werr != nil {
		// Drop the connection rather than drain what the source still sends.
		w.close(ctx)
	}
	switch {
	case res.err != nil: // the source's error, which the writer saw too
		j.qr.RowsLoaded = 0
		return res.err
	case werr != nil:
		j.qr.RowsLoaded = 0
		return fmt.Errorf("load into %s: %w", q.Target, werr)
	}
	j.qr.RowsLoaded = n
	return nil
}

// execution is one query's transaction on the source.
type execution struct {
	tx pgx.Tx
	q  *catalog.Query
	// sql is the guard's rewrite of the query's text (Analysis.SQL), which
	// counts the people behind every row; what runs.
	sql string
	// toFile maps a byte offset in sql back to the query file's text
	// (Analysis.SourceOffset), for the position of a source error.
	toFile func(int) int
	// seal seals the source's errors (SourceError).
	seal sealer
	// tempFileLimitDenied: the role may not set temp_file_limit.
	tempFileLimitDenied bool
}

func (ex *execution) text() string {
	if ex.sql == "" {
		panic("runner: query " + ex.q.Name + " has no guard analysis")
	}
	return ex.sql
}

// begin opens the query's READ ONLY REPEATABLE READ transaction on the
// run's snapshot with its timeouts and application_name.
func begin(ctx context.Context, conn *pgx.Conn, snapshotID string, cfg Config, src Source, q *catalog.Query, appName string) (*execution, error) {
	sl := newSealer(src)
	sl.q, sl.cfg = q, cfg
	var tx pgx.Tx
	var err error
	if snapshotID == "" {
		if tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}); err != nil {
			return nil, sl.seal(ctx, "begin", err, nil)
		}
	} else if tx, err = snapshot.Attach(ctx, conn, snapshotID, sl.snapshotSeal()); err != nil {
		var attach *snapshot.AttachError
		switch {
		case errors.As(err, &attach) && attach.Lost:
			return nil, &snapshotLostError{err: attach.Err}
		case errors.As(err, &attach):
			return nil, fmt.Errorf("attach to the run's snapshot: %w", attach.Err)
		}
		return nil, err
	}
	ex := &execution{tx: tx, q: q, seal: sl}
	_, err = tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
		set_config('idle_in_transaction_session_timeout', $3, true), set_config('application_name', $4, true)`,
		fmt.Sprint(q.Timeout.Milliseconds()), fmt.Sprint(cfg.LockTimeout.Milliseconds()),
		fmt.Sprint(cfg.IdleTimeout.Milliseconds()), truncate(appName, 63))
	if err != nil {
		ex.rollback(ctx)
		return nil, sl.seal(ctx, "settings", err, nil)
	}
	if ex.tempFileLimitDenied, err = setResources(ctx, tx, src); err != nil {
		ex.rollback(ctx)
		return nil, sl.seal(ctx, "settings", err, nil)
	}
	if !ex.tempFileLimitDenied {
		ex.seal.tempFileLimit = src.TempFileLimit
	}
	return ex, nil
}

// snapshotLostError is a failure to attach to the run's snapshot because
// it no longer exists: its exporting session (the coordinator's) ended.
type snapshotLostError struct{ err error }

func (e *snapshotLostError) Error() string { return "attach to the run's snapshot: " + e.err.Error() }

func (e *snapshotLostError) Unwrap() error { return e.err }

func (ex *execution) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = ex.tx.Rollback(ctx) // read-only: nothing to keep
}

// explain returns the query's EXPLAIN total cost.
func (ex *execution) explain(ctx context.Context) (float64, error) {
	var plan string
	const prefix = "EXPLAIN (FORMAT JSON) "
	st := &statement{sent: prefix + ex.text(), prefix: len(prefix), toFile: ex.toFile}
	if err := ex.tx.QueryRow(ctx, st.sent).Scan(&plan); err != nil {
		return 0, ex.seal.seal(ctx, "explain", err, st)
	}
	var p []struct {
		Plan struct {
			TotalCost float64 `json:"Total Cost"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &p); err != nil || len(p) == 0 {
		return 0, fmt.Errorf("explain: unexpected plan (%d bytes)", len(plan))
	}
	return p[0].Plan.TotalCost, nil
}

// query starts the query and checks its result's columns: their names are
// the ones the guard analysed, an aggregate column has an aggregate type,
// and the group-size column is there. No row has been read when it returns.
// When only the type rule fails, the result (with its columns) is returned
// with the error, for plan to show; the caller closes it.
func (ex *execution) query(ctx context.Context, an *guard.Analysis) (*result, error) {
	st := &statement{sent: ex.text(), toFile: ex.toFile}
	seal := func(stage string, err error) error { return ex.seal.seal(ctx, stage, err, st) }
	rows, err := ex.tx.Query(ctx, st.sent, resultFormats())
	if err != nil {
		return nil, seal("query", err)
	}
	res := &result{rows: rows, filter: &guard.EntityFilter{Min: int64(ex.q.MinGroupSize)},
		maxRows: int64(ex.q.MaxRows), groupSize: -1, seal: seal}
	fields := rows.FieldDescriptions()
	if len(fields) == 0 { // the query failed before its first row
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, seal("query", err)
		}
	}
	if len(fields) != len(an.Columns)+guard.HiddenColumns {
		res.close()
		return nil, fmt.Errorf("result has %d columns, the guard saw %d and its %d hidden ones", len(fields), len(an.Columns), guard.HiddenColumns)
	}
	fields = fields[:len(an.Columns)]
	typnames := make([]string, len(fields))
	for i, f := range fields {
		if f.Name != an.Columns[i].Name {
			res.close()
			return nil, fmt.Errorf("result column %d is %q, the guard saw %q", i+1, f.Name, an.Columns[i].Name)
		}
		typnames[i] = typeName(ex.tx.Conn(), f.DataTypeOID)
		t := warehouse.FromPostgres(typnames[i], f.TypeModifier)
		res.columns = append(res.columns, warehouse.Column{Name: f.Name, Type: t, Source: typnames[i]})
		s := newScanner(t)
		res.scanners = append(res.scanners, s)
		res.targets = append(res.targets, s.target)
		if f.Name == ex.q.GroupSize {
			res.groupSize = i
		}
	}
	res.hidden = make([]any, guard.HiddenColumns)
	for range guard.HiddenColumns {
		res.targets = append(res.targets, new(int64))
	}
	res.values = make([]any, len(fields))
	if err := guard.CheckResultTypes(an, typnames); err != nil {
		return res, err
	}
	if res.groupSize < 0 {
		res.close()
		return nil, fmt.Errorf("group_size column %q is not in the result", ex.q.GroupSize)
	}
	return res, nil
}

// typeName is the pg_type name of oid as pgx knows it, or "oid:N" for a
// type pgx does not know (an enum, a domain), which is loaded as text.
func typeName(conn *pgx.Conn, oid uint32) string {
	if t, ok := conn.TypeMap().TypeForOID(oid); ok {
		return t.Name
	}
	return fmt.Sprintf("oid:%d", oid)
}

// result streams a query's rows as warehouse.Rows: it converts each row to
// the warehouse's types, drops the rows under min_group_size, and fails on
// more than max_rows kept rows.
type result struct {
	rows     pgx.Rows
	columns  []warehouse.Column
	scanners []scanner
	targets  []any
	values   []any
	hidden   []any // the hidden values of the current row
	filter   *guard.EntityFilter
	// groupSize is the index of the group_size column, a metric the
	// author chose (plan's histogram); the filter counts people itself.
	groupSize int
	maxRows   int64
	// seal seals the source's errors (SourceError).
	seal func(stage string, err error) error
	err  error
}

var _ warehouse.Rows = (*result)(nil)

// Next advances to the next row that passes the group-size filter.
func (r *result) Next() bool {
	if r.err != nil {
		return false
	}
	for r.rows.Next() {
		if err := r.rows.Scan(r.targets...); err != nil {
			r.err = r.seal("read", err)
			return false
		}
		for i, s := range r.scanners {
			v, err := s.value()
			if err != nil {
				r.err = fmt.Errorf("column %s: %w", r.columns[i].Name, err)
				return false
			}
			r.values[i] = v
		}
		for i := range r.hidden {
			r.hidden[i] = *r.targets[len(r.scanners)+i].(*int64)
		}
		keep, err := r.filter.Keep(r.hidden)
		if err != nil {
			r.err = err
			return false
		}
		if !keep {
			continue
		}
		if r.filter.Kept > r.maxRows {
			r.err = fmt.Errorf("more than max_rows (%d) rows: nothing loaded", r.maxRows)
			return false
		}
		return true
	}
	if err := r.rows.Err(); err != nil {
		r.err = r.seal("query", err)
	}
	return false
}

// Values returns the current row.
func (r *result) Values() ([]any, error) { return r.values, nil }

// Err returns the error that ended the rows.
func (r *result) Err() error { return r.err }

func (r *result) close() { r.rows.Close() }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
