package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// LoadDump replaces the tables of schema (created when missing) with the
// dump's, in one transaction: each table is created in a staging schema
// (<schema>_staging), filled with COPY … FROM STDIN (FORMAT csv, HEADER)
// from its verified, decompressed files, its row count checked against
// the manifest, and then every table is moved into schema at once (DROP
// TABLE of the old one, ALTER TABLE … SET SCHEMA of the new one) and the
// staging schema dropped. Readers see the previous tables until the
// commit and the new ones after it; a failure — a corrupt file, a wrong
// count, a lost connection — rolls everything back. Tables of schema the
// dump does not have are dropped, except the ledger (warehouse.LedgerTable),
// to which entry is added in the same transaction. Views on dump tables
// block the DROP: the load then fails and names them (PostgreSQL's
// dependency error).
func (w *Writer) LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) (err error) {
	if schema == w.schema {
		return fmt.Errorf("load dump: schema %s is the warehouse's query schema: pick another", schema)
	}
	staging := schema + "_staging"
	target, stage := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{staging}.Sanitize()
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("load dump: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("load dump: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx)) // the load's error is the one to report
		}
	}()
	for _, q := range append(stagingSQL(stage), "CREATE SCHEMA IF NOT EXISTS "+target) {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("load dump: %s: %w", q, err)
		}
	}
	for _, t := range tables {
		if err := loadTable(ctx, tx, stage, t); err != nil {
			return fmt.Errorf("load dump: table %s: %w", t.Name, err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT tablename::text FROM pg_tables WHERE schemaname = $1`, schema)
	if err != nil {
		return fmt.Errorf("load dump: list tables of %s: %w", schema, err)
	}
	existing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("load dump: list tables of %s: %w", schema, err)
	}
	for _, name := range existing {
		if name != warehouse.LedgerTable && !slices.ContainsFunc(tables, func(t warehouse.DumpTable) bool { return t.Name == name }) {
			if _, err := tx.Exec(ctx, "DROP TABLE "+target+"."+pgx.Identifier{name}.Sanitize()); err != nil {
				return fmt.Errorf("load dump: drop table %s no longer dumped: %w", name, err)
			}
		}
	}
	for _, t := range tables {
		name := pgx.Identifier{t.Name}.Sanitize()
		if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+target+"."+name); err != nil {
			return fmt.Errorf("load dump: replace table %s: %w", t.Name, err)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+stage+"."+name+" SET SCHEMA "+target); err != nil {
			return fmt.Errorf("load dump: move table %s in: %w", t.Name, err)
		}
	}
	if _, err := tx.Exec(ctx, "DROP SCHEMA "+stage+" CASCADE"); err != nil {
		return fmt.Errorf("load dump: drop %s: %w", staging, err)
	}
	if err := writeLedger(ctx, tx, schema, entry); err != nil {
		return fmt.Errorf("load dump: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("load dump: commit: %w", err)
	}
	return nil
}

// loadTable creates and fills one staging table.
func loadTable(ctx context.Context, tx pgx.Tx, stage string, t warehouse.DumpTable) error {
	table := stage + "." + pgx.Identifier{t.Name}.Sanitize()
	defs := make([]string, len(t.Columns))
	var arrays []warehouse.Column
	for i, c := range t.Columns {
		typ := typeSQL(c.Type)
		if c.Type.Array {
			typ = "jsonb"
			arrays = append(arrays, c)
		}
		defs[i] = pgx.Identifier{c.Name}.Sanitize() + " " + typ
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return err
	}
	var n int64
	for _, f := range t.Files {
		r, err := f.OpenCSV(ctx)
		if err != nil {
			return err
		}
		rr := &readErr{r: r}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, rr, "COPY "+table+" FROM STDIN (FORMAT csv, HEADER)")
		err = errors.Join(err, r.Close())
		if err != nil {
			// COPY fails with the server's error, which quotes the
			// reader's as text only: a corrupt file is reported as such.
			var ce *warehouse.CorruptError
			if errors.As(err, &ce) || errors.As(rr.err, &ce) {
				return ce
			}
			return fmt.Errorf("copy %s: %w", f.Name, err)
		}
		n += tag.RowsAffected()
	}
	if n != t.Rows {
		return fmt.Errorf("%d rows read, the manifest says %d", n, t.Rows)
	}
	for _, c := range arrays {
		col := pgx.Identifier{c.Name}.Sanitize()
		q := fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s.json_array(%s)::%s", table, col, typeSQL(c.Type), stage, col, typeSQL(c.Type))
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("convert array column %s: %w", c.Name, err)
		}
	}
	return nil
}

// readErr is r that keeps the first error it returned other than io.EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && r.err == nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// stagingSQL creates the staging schema stage afresh, with the function
// that converts arrays, which arrive as JSON arrays.
func stagingSQL(stage string) []string {
	return []string{
		"DROP SCHEMA IF EXISTS " + stage + " CASCADE",
		"CREATE SCHEMA " + stage,
		"CREATE FUNCTION " + stage + `.json_array(j jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS
			$$ SELECT coalesce(array_agg(e ORDER BY n), '{}') FROM jsonb_array_elements_text(j) WITH ORDINALITY AS a(e, n) $$`,
	}
}

// ApplyIncrement applies one increment to the tables of schema in one
// transaction: each table's upserts (and, for an incremental table, its
// deleted keys) are COPYed into a staging schema as for LoadDump and
// counted; a table of DumpFull then replaces its rows (DELETE, INSERT …
// SELECT, so that views on it stay), and an incremental one deletes the
// rows whose key is among the deleted keys or the upserts and inserts
// the upserts; last, entry is added to the ledger. A failure rolls
// everything back.
func (w *Writer) ApplyIncrement(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) (err error) {
	if schema == w.schema {
		return fmt.Errorf("apply increment: schema %s is the warehouse's query schema: pick another", schema)
	}
	staging := schema + "_staging"
	target, stage := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{staging}.Sanitize()
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("apply increment: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("apply increment: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx)) // the increment's error is the one to report
		}
	}()
	for _, q := range stagingSQL(stage) {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("apply increment: %s: %w", q, err)
		}
	}
	for _, t := range tables {
		if err := loadTable(ctx, tx, stage, t); err != nil {
			return fmt.Errorf("apply increment: table %s: %w", t.Name, err)
		}
		if t.Incremental() {
			dels := t.DeletedKeys()
			if len(dels.Columns) == 0 {
				return fmt.Errorf("apply increment: table %s: no key column %s", t.Name, t.Key)
			}
			if err := loadTable(ctx, tx, stage, dels); err != nil {
				return fmt.Errorf("apply increment: table %s: deleted keys: %w", t.Name, err)
			}
		}
		for _, q := range mergeSQL(target, stage, t) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("apply increment: table %s: %w", t.Name, err)
			}
		}
	}
	if _, err := tx.Exec(ctx, "DROP SCHEMA "+stage+" CASCADE"); err != nil {
		return fmt.Errorf("apply increment: drop %s: %w", staging, err)
	}
	if err := writeLedger(ctx, tx, schema, entry); err != nil {
		return fmt.Errorf("apply increment: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("apply increment: commit: %w", err)
	}
	return nil
}

// mergeSQL are the statements that bring table t of target to the
// increment staged in stage (an incremental table's deleted keys in
// <table>__deletes).
func mergeSQL(target, stage string, t warehouse.DumpTable) []string {
	name := pgx.Identifier{t.Name}.Sanitize()
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	cols := strings.Join(names, ", ")
	insert := fmt.Sprintf("INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s", target, name, cols, cols, stage, name)
	if !t.Incremental() {
		return []string{"DELETE FROM " + target + "." + name, insert}
	}
	key := pgx.Identifier{t.Key}.Sanitize()
	dels := pgx.Identifier{t.Name + "__deletes"}.Sanitize()
	return []string{
		fmt.Sprintf("DELETE FROM %[1]s.%[2]s t WHERE t.%[3]s IN (SELECT %[3]s FROM %[4]s.%[2]s) OR t.%[3]s IN (SELECT %[3]s FROM %[4]s.%[5]s)", target, name, key, stage, dels),
		insert,
	}
}
