//go:build !no_duckdb

package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// LoadDump replaces the tables of schema (created when missing) with the
// dump's tables, all in one transaction: readers and a process restarted
// after a crash see the previous tables or the new ones, never a mix.
//
// Every file is first copied to a temporary directory while its SHA-256
// and size are checked against the manifest, so a corrupt file fails the
// load before anything changes. Then, in one transaction, each table is
// created with CREATE OR REPLACE TABLE … AS SELECT … FROM read_csv(its
// files) — DuckDB's own parallel CSV reader, reading the gzip files as
// they are — its row count is checked against the manifest, and tables of
// schema the dump does not have are dropped, except the ledger, to which
// entry is added before the commit. Arrays, which dumps carry as JSON, are
// cast from JSON to lists. Memory is bounded as the package documentation
// says (# Memory).
func (w *Writer) LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error {
	if !warehouse.IsIdent(schema) || schema == "main" {
		return fmt.Errorf("load dump: schema %q: want a lower-case identifier other than main", schema)
	}
	dir, err := os.MkdirTemp("", "metricgate-load-*")
	if err != nil {
		return fmt.Errorf("load dump: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // temporary copies only
	paths := make([][]string, len(tables))
	for i, t := range tables {
		if paths[i], err = copyFiles(ctx, dir, t.Name, t.Files); err != nil {
			return fmt.Errorf("load dump: %w", err)
		}
	}
	return w.loadTx(ctx, "load dump", func(tx *sql.Tx, widen func(columns int) error) error {
		if err := loadDump(ctx, tx, widen, schema, tables, paths); err != nil {
			return err
		}
		if err := writeLedger(ctx, tx, schema, entry); err != nil {
			return fmt.Errorf("load dump: %w", err)
		}
		return nil
	})
}

// loadDump is LoadDump's transaction.
func loadDump(ctx context.Context, tx *sql.Tx, widen func(columns int) error, schema string, tables []warehouse.DumpTable, paths [][]string) error {
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident(schema)); err != nil {
		return fmt.Errorf("load dump: create schema %s: %w", schema, err)
	}
	for i, t := range tables {
		if err := widen(len(t.Columns)); err != nil {
			return fmt.Errorf("load dump: table %s: %w", t.Name, err)
		}
		if _, err := tx.ExecContext(ctx, loadDumpSQL(schema, t, paths[i])); err != nil {
			return fmt.Errorf("load dump: table %s: %w", t.Name, err)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+ident(schema)+"."+ident(t.Name)).Scan(&n); err != nil {
			return fmt.Errorf("load dump: count %s: %w", t.Name, err)
		}
		if n != t.Rows {
			return fmt.Errorf("load dump: table %s: %d rows read, the manifest says %d", t.Name, n, t.Rows)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = ? AND NOT temporary`, schema)
	if err != nil {
		return fmt.Errorf("load dump: list tables of %s: %w", schema, err)
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			_ = rows.Close() // the scan error is the one to report
			return fmt.Errorf("load dump: list tables of %s: %w", schema, err)
		}
		if name != warehouse.LedgerTable && !slices.ContainsFunc(tables, func(t warehouse.DumpTable) bool { return t.Name == name }) {
			stale = append(stale, name)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("load dump: list tables of %s: %w", schema, err)
	}
	for _, name := range stale {
		if _, err := tx.ExecContext(ctx, "DROP TABLE "+ident(schema)+"."+ident(name)); err != nil {
			return fmt.Errorf("load dump: drop table %s no longer dumped: %w", name, err)
		}
	}
	return nil
}

// copyFiles copies each file, verified while it is read, to dir as
// <name>.<n>.csv.gz, and returns the paths.
func copyFiles(ctx context.Context, dir, name string, files []*warehouse.DumpFile) ([]string, error) {
	var out []string
	for j, f := range files {
		p := filepath.Join(dir, fmt.Sprintf("%s.%d.csv.gz", name, j+1))
		if err := copyFile(ctx, f, p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// loadTx runs fn in one transaction on a connection of its own with the
// load settings (setForLoad), holding the commit slot. widen grows the
// load's share of memory_limit, in columns, to the widest table so far
// (tables created earlier in the transaction keep blocks pinned until it
// commits, so it never goes down); calling it before every table has
// DuckDB evict and return freed memory, so the peak varies less. op names
// the operation in errors.
func (w *Writer) loadTx(ctx context.Context, op string, fn func(tx *sql.Tx, widen func(columns int) error) error) error {
	select {
	case w.commit <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.commit }()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer func() { _ = conn.Close() }() // returns the connection to the pool
	restore, err := setForLoad(ctx, conn)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer restore()
	held := 0
	defer func() {
		if held > 0 {
			// As for Write: a failure to lower the limit costs memory only.
			_ = w.resize(context.WithoutCancel(ctx), held, 0)
		}
	}()
	widen := func(columns int) error {
		width := max(held, columns)
		if err := w.resize(ctx, held, width); err != nil {
			return err
		}
		held = width
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit; otherwise nothing changed
	if err := fn(tx, widen); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	return nil
}

// loadSettings are DuckDB's settings while a dump loads (see the package
// documentation, # Memory): one thread, since gzip files are read by one
// thread each and a second one only adds its buffers and row groups; and
// the allocator flushed after every task that allocated more than 4 MiB,
// so that freed blocks are returned to the system instead of being kept.
var loadSettings = [][2]string{
	{"threads", "1"},
	{"allocator_flush_threshold", "'4MiB'"},
}

// setForLoad applies loadSettings and returns the function that puts the
// previous values back. They are global: queries running during a load
// get one thread too.
func setForLoad(ctx context.Context, conn *sql.Conn) (func(), error) {
	var prev []string
	restore := func() {
		// Best effort: these only tune speed and memory.
		for i, v := range prev {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SET GLOBAL "+loadSettings[i][0]+" = "+literal(v))
		}
	}
	for _, s := range loadSettings {
		var v string
		if err := conn.QueryRowContext(ctx, "SELECT current_setting("+literal(s[0])+")::VARCHAR").Scan(&v); err != nil {
			restore()
			return nil, fmt.Errorf("read %s: %w", s[0], err)
		}
		if _, err := conn.ExecContext(ctx, "SET GLOBAL "+s[0]+" = "+s[1]); err != nil {
			restore()
			return nil, fmt.Errorf("set %s: %w", s[0], err)
		}
		prev = append(prev, v)
	}
	return restore, nil
}

// loadDumpSQL is the CREATE OR REPLACE TABLE … AS SELECT of one table
// from its local files.
func loadDumpSQL(schema string, t warehouse.DumpTable, paths []string) string {
	return fmt.Sprintf("CREATE OR REPLACE TABLE %s.%s AS %s", ident(schema), ident(t.Name), readFilesSQL(t.Columns, paths))
}

// readFilesSQL is the SELECT of columns from local dump files.
func readFilesSQL(columns []warehouse.Column, paths []string) string {
	files := make([]string, len(paths))
	for i, p := range paths {
		files[i] = literal(p)
	}
	cols := make([]string, len(columns))
	exprs := make([]string, len(columns))
	for i, c := range columns {
		read := sqlType(c.Type)
		expr := ident(c.Name)
		if c.Type.Array || c.Type.Kind == warehouse.KindJSON {
			read = "VARCHAR"
			expr = "CAST(" + ident(c.Name) + " AS JSON)"
			if c.Type.Array {
				expr = "CAST(" + expr + " AS " + sqlType(c.Type) + ")"
			}
			expr += " AS " + ident(c.Name)
		}
		cols[i] = literal(c.Name) + ": " + literal(read)
		exprs[i] = expr
	}
	if len(files) == 0 {
		// No file (an increment without deletes): an empty relation of
		// the columns.
		for i, c := range columns {
			exprs[i] = "CAST(NULL AS " + sqlType(c.Type) + ") AS " + ident(c.Name)
		}
		return "SELECT " + strings.Join(exprs, ", ") + " WHERE false"
	}
	return fmt.Sprintf("SELECT %s FROM read_csv([%s], header = true, auto_detect = false, "+
		"columns = {%s}, delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, compression = 'gzip', buffer_size = 4194304, max_line_size = 4194304)",
		strings.Join(exprs, ", "), strings.Join(files, ", "), strings.Join(cols, ", "))
}

// ApplyIncrement applies one increment to the tables of schema in one
// transaction. Every file is first copied, verified, to a temporary
// directory (as for LoadDump); then, per table, a table of DumpFull is
// replaced (CREATE OR REPLACE TABLE … AS SELECT), and for a table of
// DumpIncremental the upserts and the deleted keys are read into
// temporary tables, their counts checked, the rows whose key is in
// either deleted and the upserts inserted; last, entry is added to the
// ledger. A failure rolls everything back: readers see the previous state
// or the next one.
func (w *Writer) ApplyIncrement(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error {
	if !warehouse.IsIdent(schema) || schema == "main" {
		return fmt.Errorf("apply increment: schema %q: want a lower-case identifier other than main", schema)
	}
	dir, err := os.MkdirTemp("", "metricgate-increment-*")
	if err != nil {
		return fmt.Errorf("apply increment: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // temporary copies only
	paths := make([][]string, len(tables))
	dels := make([][]string, len(tables))
	for i, t := range tables {
		if paths[i], err = copyFiles(ctx, dir, t.Name, t.Files); err != nil {
			return fmt.Errorf("apply increment: %w", err)
		}
		if dels[i], err = copyFiles(ctx, dir, t.Name+".deletes", t.Deletes); err != nil {
			return fmt.Errorf("apply increment: %w", err)
		}
	}
	return w.loadTx(ctx, "apply increment", func(tx *sql.Tx, widen func(columns int) error) error {
		if err := applyIncrement(ctx, tx, widen, schema, tables, paths, dels); err != nil {
			return err
		}
		if err := writeLedger(ctx, tx, schema, entry); err != nil {
			return fmt.Errorf("apply increment: %w", err)
		}
		return nil
	})
}

// applyIncrement is ApplyIncrement's transaction.
func applyIncrement(ctx context.Context, tx *sql.Tx, widen func(columns int) error, schema string, tables []warehouse.DumpTable, paths, dels [][]string) error {
	count := func(rel string) (int64, error) {
		var n int64
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+rel).Scan(&n)
		return n, err
	}
	for i, t := range tables {
		if err := widen(len(t.Columns)); err != nil {
			return fmt.Errorf("apply increment: table %s: %w", t.Name, err)
		}
		target := ident(schema) + "." + ident(t.Name)
		if !t.Incremental() {
			if _, err := tx.ExecContext(ctx, loadDumpSQL(schema, t, paths[i])); err != nil {
				return fmt.Errorf("apply increment: table %s: %w", t.Name, err)
			}
			if err := checkCount(count, target, t.Name, "rows", t.Rows); err != nil {
				return err
			}
			continue
		}
		for _, q := range incrementSQL(schema, t, paths[i], dels[i]) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("apply increment: table %s: %w", t.Name, err)
			}
			if strings.HasPrefix(q, "CREATE TEMP TABLE mg_upserts") {
				if err := checkCount(count, "mg_upserts", t.Name, "upserts", t.Rows); err != nil {
					return err
				}
			}
			if strings.HasPrefix(q, "CREATE TEMP TABLE mg_deletes") {
				if err := checkCount(count, "mg_deletes", t.Name, "deletes", t.DeleteRows); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkCount compares the rows of rel with the manifest's want.
func checkCount(count func(string) (int64, error), rel, table, what string, want int64) error {
	n, err := count(rel)
	if err != nil {
		return fmt.Errorf("apply increment: table %s: count %s: %w", table, what, err)
	}
	if n != want {
		return fmt.Errorf("apply increment: table %s: %d %s read, the manifest says %d", table, n, what, want)
	}
	return nil
}

// incrementSQL are the statements that merge one incremental table's
// upserts and deletes into schema.
func incrementSQL(schema string, t warehouse.DumpTable, upserts, deletes []string) []string {
	target := ident(schema) + "." + ident(t.Name)
	key := ident(t.Key)
	var keyCol warehouse.Column
	for _, c := range t.Columns {
		if c.Name == t.Key {
			keyCol = c
		}
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = ident(c.Name)
	}
	cols := strings.Join(names, ", ")
	return []string{
		"DROP TABLE IF EXISTS mg_upserts",
		"DROP TABLE IF EXISTS mg_deletes",
		"CREATE TEMP TABLE mg_upserts AS " + readFilesSQL(t.Columns, upserts),
		"CREATE TEMP TABLE mg_deletes AS " + readFilesSQL([]warehouse.Column{keyCol}, deletes),
		fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM mg_upserts) OR %s IN (SELECT %s FROM mg_deletes)", target, key, key, key, key),
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM mg_upserts", target, cols, cols),
		"DROP TABLE mg_upserts",
		"DROP TABLE mg_deletes",
	}
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// copyFile copies f, verified, to the local file path.
func copyFile(ctx context.Context, f *warehouse.DumpFile, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.CopyTo(ctx, out); err != nil {
		_ = out.Close() // the copy error is the one to report
		return err
	}
	return out.Close()
}
