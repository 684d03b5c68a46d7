package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// ledgerColumns are the ledger's columns, in the order of ledgerSQL's
// INSERT and Ledger's SELECT.
var ledgerColumns = strings.Join(warehouse.LedgerColumns, ", ")

// ledgerSQL are the statements, inside a load's transaction, that create
// schema's ledger when it is missing and add one entry to it ($1…$8 in
// the order of ledgerColumns after seq, which is the ledger's highest
// plus one).
func ledgerSQL(schema string) []string {
	t := pgx.Identifier{schema, warehouse.LedgerTable}.Sanitize()
	return []string{
		"CREATE TABLE IF NOT EXISTS " + t + ` (seq bigint NOT NULL, location text NOT NULL, kind text NOT NULL, base text,
			snapshot_time timestamptz, table_count bigint, row_count bigint, loaded_at timestamptz NOT NULL, tool text)`,
		"INSERT INTO " + t + " (" + ledgerColumns + ") SELECT coalesce(max(seq), 0) + 1, $1::text, $2::text, nullif($3::text, ''), " +
			"$4::timestamptz, $5::bigint, $6::bigint, $7::timestamptz, $8::text FROM " + t,
	}
}

// writeLedger adds e to schema's ledger within tx.
func writeLedger(ctx context.Context, tx pgx.Tx, schema string, e warehouse.LedgerEntry) error {
	q := ledgerSQL(schema)
	if _, err := tx.Exec(ctx, q[0]); err != nil {
		return fmt.Errorf("create ledger %s.%s: %w", schema, warehouse.LedgerTable, err)
	}
	if _, err := tx.Exec(ctx, q[1], e.Location, string(e.Kind), e.Base, e.SnapshotTime, e.Tables, e.Rows, e.LoadedAt, e.Tool); err != nil {
		return fmt.Errorf("write ledger %s.%s: %w", schema, warehouse.LedgerTable, err)
	}
	return nil
}

// Ledger returns schema's ledger, oldest entry first; nil when schema has
// none.
func (w *Writer) Ledger(ctx context.Context, schema string) ([]warehouse.LedgerEntry, error) {
	t := pgx.Identifier{schema, warehouse.LedgerTable}.Sanitize()
	var exists bool
	if err := w.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", t).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	if !exists {
		return nil, nil
	}
	rows, err := w.pool.Query(ctx, "SELECT "+ledgerColumns+" FROM "+t+" ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (warehouse.LedgerEntry, error) {
		var (
			e          warehouse.LedgerEntry
			kind       string
			base, tool pgtype.Text
			snap       pgtype.Timestamptz
			tables, rs pgtype.Int8
		)
		err := r.Scan(&e.Seq, &e.Location, &kind, &base, &snap, &tables, &rs, &e.LoadedAt, &tool)
		e.Kind, e.Base, e.SnapshotTime, e.Tables, e.Rows, e.Tool = warehouse.DumpMode(kind), base.String, snap.Time, tables.Int64, rs.Int64, tool.String
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	return out, nil
}
