//go:build !no_duckdb

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// checkEvery is how many rows pass between two looks at the context.
const checkEvery = 1024

// flushEvery is how many rows the Appender buffers before it hands them to
// DuckDB, where memory_limit bounds them; by itself it buffers about 200k.
const flushEvery = 16384

// Memory of the loads in flight: DuckDB's memory_limit is set to
// memoryBase plus memoryPerColumn for every column of every load being
// written, so that staged and inserted rows spill to the temp directory
// instead of growing with the result, while a wide table still gets the
// blocks DuckDB pins per column. With no load in flight the limit is
// DuckDB's default again.
const (
	memoryBase      = 4 << 20
	memoryPerColumn = 2 << 20
)

// reserve raises memory_limit for a load of cols columns; release lowers
// it again.
func (w *Writer) reserve(ctx context.Context, cols int) (release func(), err error) {
	if err := w.resize(ctx, 0, cols); err != nil {
		return nil, err
	}
	return func() {
		// Lowering the limit can only fail when DuckDB cannot evict down to
		// it; the next load sets it again, so a failure here costs memory,
		// not correctness.
		_ = w.resize(context.WithoutCancel(ctx), cols, 0)
	}, nil
}

// resize changes a load's share of memory_limit from cols columns to
// to columns (0 to reserve, 0 to release) and sets the limit for every
// load in flight.
func (w *Writer) resize(ctx context.Context, from, to int) error {
	w.mem.Lock()
	defer w.mem.Unlock()
	if err := w.setMemoryLimit(ctx, w.loadColumns-from+to); err != nil {
		return err
	}
	w.loadColumns += to - from
	return nil
}

func (w *Writer) setMemoryLimit(ctx context.Context, cols int) error {
	stmt := "RESET GLOBAL memory_limit"
	if cols > 0 {
		stmt = fmt.Sprintf("SET GLOBAL memory_limit = '%dMiB'", (memoryBase+cols*memoryPerColumn)>>20)
	}
	if _, err := w.db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("set memory_limit: %w", err)
	}
	return nil
}

// Write loads rows into load.Table as load.Mode says and returns the
// number of rows written. The table is created or evolved as needed; on
// any error, including a canceled ctx or a failing rows, the table is left
// as it was.
func (w *Writer) Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	if err := load.Validate(); err != nil {
		return 0, fmt.Errorf("load into duckdb: %w", err)
	}
	n, err := w.write(ctx, load, rows)
	if err != nil {
		var ie *warehouse.IncompatibleError
		if errors.As(err, &ie) {
			return 0, err // names the table and columns already
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			// DuckDB reports an interrupted statement in its own words.
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return 0, fmt.Errorf("load table %s: %w", load.Table, err)
	}
	return n, nil
}

func (w *Writer) write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (n int64, err error) {
	release, err := w.reserve(ctx, len(load.AllColumns()))
	if err != nil {
		return 0, err
	}
	defer release()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	stage := fmt.Sprintf("_stage_%d_%s", w.seq.Add(1), load.Table)
	defer func() {
		// The staging table is temporary: dropping it only frees memory,
		// and a connection that cannot drop it is not reused.
		cctx := context.WithoutCancel(ctx)
		if _, derr := conn.ExecContext(cctx, "DROP TABLE IF EXISTS temp.main."+ident(stage)); derr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		// Close returns the connection to the pool (or discards it, when
		// marked bad above); its error loses nothing the load needs.
		_ = conn.Close()
	}()

	defs := make([]string, len(load.Columns))
	for i, c := range load.Columns {
		defs[i] = ident(c.Name) + " " + stageType(c.Type)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+ident(stage)+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, fmt.Errorf("create staging table: %w", err)
	}
	if n, err = appendRows(ctx, conn, stage, load.Columns, rows); err != nil {
		return 0, err
	}
	if err := w.apply(ctx, conn, stage, load); err != nil {
		return 0, err
	}
	return n, nil
}

// appendRows streams rows into the staging table through the Appender.
func appendRows(ctx context.Context, conn *sql.Conn, stage string, cols []warehouse.Column, rows warehouse.Rows) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		a, err := duckdbgo.NewAppender(dc.(driver.Conn), "temp", "main", stage)
		if err != nil {
			return fmt.Errorf("open appender: %w", err)
		}
		closed := false
		defer func() {
			if !closed {
				_ = a.Clear()
				_ = a.Close()
			}
		}()
		vals := make([]driver.Value, len(cols))
		for rows.Next() {
			if n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			v, err := rows.Values()
			if err != nil {
				return fmt.Errorf("read row %d: %w", n+1, err)
			}
			if len(v) != len(cols) {
				return fmt.Errorf("row %d has %d values for %d columns", n+1, len(v), len(cols))
			}
			for i, c := range cols {
				if vals[i], err = toDuck(c.Type, v[i]); err != nil {
					return fmt.Errorf("row %d, column %s: %w", n+1, c.Name, err)
				}
			}
			if err := a.AppendRow(vals...); err != nil {
				return fmt.Errorf("row %d: %w", n+1, err)
			}
			n++
			if n%flushEvery == 0 {
				if err := a.Flush(); err != nil {
					return fmt.Errorf("flush appender at row %d: %w", n, err)
				}
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
		closed = true
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("flush appender: %w", err)
		}
		return nil
	})
	return n, err
}

// column is a column of an existing table.
type column struct {
	name, typ string
}

// apply moves the staged rows into the table in one transaction.
func (w *Writer) apply(ctx context.Context, conn *sql.Conn, stage string, load warehouse.Load) error {
	select {
	case w.commit <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.commit }()

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A no-op after Commit; on an earlier error, that error is the one to
	// report, and an uncommitted transaction changes nothing.
	defer func() { _ = tx.Rollback() }()

	existing, err := tableColumns(ctx, tx, load.Table)
	if err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	all := load.AllColumns()
	table := ident(load.Table)
	if existing == nil {
		defs := make([]string, len(all))
		for i, c := range all {
			defs[i] = ident(c.Name) + " " + sqlType(c.Type)
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	} else {
		have := map[string]string{}
		for _, c := range existing {
			have[c.name] = c.typ
		}
		added, conflicts := warehouse.CompareColumns(have, all, func(typ string, c warehouse.Column) string {
			if typ == sqlType(c.Type) {
				return ""
			}
			return fmt.Sprintf("table has %s, result has %v (%s)", typ, c.Type, sqlType(c.Type))
		})
		if len(conflicts) > 0 {
			return &warehouse.IncompatibleError{Table: load.Table, Columns: conflicts}
		}
		for _, c := range added {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+table+" ADD COLUMN "+ident(c.Name)+" "+sqlType(c.Type)); err != nil {
				return fmt.Errorf("add column %s: %w", c.Name, err)
			}
		}
	}

	del, delArgs := deleteSQL(table, load)
	if _, err := tx.ExecContext(ctx, del, delArgs...); err != nil {
		return fmt.Errorf("delete old rows: %w", err)
	}

	names := make([]string, 0, len(all))
	exprs := make([]string, 0, len(all))
	for _, c := range load.Columns {
		names = append(names, ident(c.Name))
		exprs = append(exprs, "CAST("+ident(c.Name)+" AS "+sqlType(c.Type)+")")
	}
	for _, c := range warehouse.ProvenanceColumns {
		names = append(names, ident(c.Name))
		exprs = append(exprs, "CAST(? AS "+sqlType(c.Type)+")")
	}
	insert := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT " +
		strings.Join(exprs, ", ") + " FROM temp.main." + ident(stage)
	if _, err := tx.ExecContext(ctx, insert, load.Provenance.Values()...); err != nil {
		return fmt.Errorf("insert rows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// deleteSQL returns the statement deleting the rows load replaces
// (warehouse.DeleteSQL), and its arguments.
func deleteSQL(table string, load warehouse.Load) (string, []any) {
	return warehouse.DeleteSQL(table, load, func(_ int, c warehouse.Column) string {
		if c.Type.Kind == warehouse.KindDate {
			return "CAST(? AS DATE)"
		}
		return "?"
	})
}

// tableColumns returns the columns of a table of the main schema, in
// order, or nil when there is no such table.
func tableColumns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, table string) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
		ORDER BY column_index`, table)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}
