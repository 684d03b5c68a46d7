package dump

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// source is one database the dump reads, on a snapshot of its own.
type source struct {
	role     string
	url      string
	snapshot string
	asOf     time.Time
}

// roleOf is the role whose database holds t: its source role when that
// role has a database of its own, else main.
func (e *Exporter) roleOf(t *Table) string {
	if s, ok := e.cfg.Sources[t.Source]; ok && t.Source != MainRole && s.URL != "" && s.URL != e.cfg.SourceURL {
		return t.Source
	}
	return MainRole
}

// openedSource is a source's coordinator: the transaction whose snapshot
// the workers attach to.
type openedSource struct {
	*source
	conn *pgx.Conn
	tx   pgx.Tx
}

func (o *openedSource) close(ctx context.Context) {
	_ = o.tx.Rollback(context.WithoutCancel(ctx)) // read-only: nothing to keep
	closeConn(ctx, o.conn)
}

// openSource opens the coordinator of one database: a REPEATABLE READ,
// READ ONLY transaction whose snapshot it exports, and reads its as-of
// time.
func (e *Exporter) openSource(ctx context.Context, role, url, asOfSQL string) (*openedSource, pgx.Tx, error) {
	name := e.cfg.ApplicationName + " coordinator"
	if role != MainRole {
		name += " " + role
	}
	coord, err := connect(ctx, url, name)
	if err != nil {
		return nil, nil, err
	}
	tx, err := coord.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		closeConn(ctx, coord)
		return nil, nil, fmt.Errorf("begin snapshot transaction: %w", err)
	}
	o := &openedSource{source: &source{role: role, url: url}, conn: coord, tx: tx}
	fail := func(err error) (*openedSource, pgx.Tx, error) {
		o.close(ctx)
		return nil, nil, err
	}
	// The coordinator sits idle while the workers copy, and must outlive
	// them: they attach to its snapshot table by table.
	if _, err := tx.Exec(ctx, "SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
		strconv.FormatInt((e.cfg.StatementTimeout+10*time.Minute).Milliseconds(), 10)); err != nil {
		return fail(fmt.Errorf("set idle timeout: %w", err))
	}
	var asOf *time.Time
	if err := tx.QueryRow(ctx, "SELECT ("+asOfSQL+")::timestamptz").Scan(&asOf); err != nil {
		return fail(fmt.Errorf("read as_of (%s): %w", asOfSQL, err))
	}
	if asOf == nil {
		return fail(fmt.Errorf("as_of (%s) is NULL: the source looks empty", asOfSQL))
	}
	o.asOf = *asOf
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&o.snapshot); err != nil {
		return fail(fmt.Errorf("export snapshot: %w", err))
	}
	return o, tx, nil
}

// connect opens a source connection whose application_name shows in
// pg_stat_activity. Errors never quote the connection string.
func connect(ctx context.Context, url, appName string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("parse the source URL: malformed connection string")
	}
	cfg.RuntimeParams["application_name"] = appName
	ctx, cancel := context.WithTimeoutCause(ctx, 30*time.Second, errors.New("connect to the source: timed out after 30s"))
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the source: %w", err)
	}
	return conn, nil
}

func closeConn(ctx context.Context, c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.Close(ctx) // nothing to keep on a read-only connection
}

// estimateRows returns the planner's row estimate of each table, so that
// the biggest tables start first and the workers finish together.
func estimateRows(ctx context.Context, tx pgx.Tx, def *Definition) (map[string]int64, error) {
	names := make([]string, len(def.Tables))
	for i, t := range def.Tables {
		names[i] = t.Name
	}
	rows, err := tx.Query(ctx, `SELECT c.relname::text, greatest(c.reltuples, 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY ($2)`, def.Schema, names)
	if err != nil {
		return nil, fmt.Errorf("estimate table sizes: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("estimate table sizes: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}
