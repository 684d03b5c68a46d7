package postgres

import (
	"context"
	"errors"
	"fmt"

	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/warehouse"
)

var _ dump.Warehouse = (*Writer)(nil)

// LoadDump replaces the tables of schema (created when missing) with the
// dump's, in one transaction: each table is created in a staging schema
// (<schema>_staging), filled with COPY … FROM STDIN (FORMAT csv, HEADER)
// from its verified, decompressed files, its row count checked against
// the manifest, and then every table is moved into schema at once (DROP
// TABLE of the old one, ALTER TABLE … SET SCHEMA of the new one) and the
// staging schema dropped. Readers see the previous tables until the
// commit and the new ones after it; a failure — a corrupt file, a wrong
// count, a lost connection — rolls everything back. Tables of schema the
// dump does not have are dropped. Views on dump tables block the DROP:
// the load then fails and names them (PostgreSQL's dependency error).
func (w *Writer) LoadDump(ctx context.Context, schema string, tables []dump.LoadTable) (err error) {
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
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS " + stage + " CASCADE",
		"CREATE SCHEMA " + stage,
		"CREATE SCHEMA IF NOT EXISTS " + target,
		// Arrays arrive as JSON arrays.
		"CREATE FUNCTION " + stage + `.json_array(j jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE AS
			$$ SELECT coalesce(array_agg(e ORDER BY n), '{}') FROM jsonb_array_elements_text(j) WITH ORDINALITY AS a(e, n) $$`,
	} {
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
		if !slices.ContainsFunc(tables, func(t dump.LoadTable) bool { return t.Name == name }) {
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
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("load dump: commit: %w", err)
	}
	return nil
}

// loadTable creates and fills one staging table.
func loadTable(ctx context.Context, tx pgx.Tx, stage string, t dump.LoadTable) error {
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
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, r, "COPY "+table+" FROM STDIN (FORMAT csv, HEADER)")
		err = errors.Join(err, r.Close())
		if err != nil {
			var ce *dump.CorruptError
			if errors.As(err, &ce) {
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
