//go:build !no_duckdb

package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// ledgerColumns are the ledger's columns, in the order of ledgerSQL's
// INSERT and Ledger's SELECT.
var ledgerColumns = strings.Join(warehouse.LedgerColumns, ", ")

// ledgerSQL are the statements, inside a load's transaction, that create
// schema's ledger when it is missing and add one entry to it (its eight
// values bound in the order of ledgerColumns after seq, which is the
// ledger's highest plus one).
func ledgerSQL(schema string) []string {
	t := ident(schema) + "." + ident(warehouse.LedgerTable)
	return []string{
		"CREATE TABLE IF NOT EXISTS " + t + ` (seq BIGINT NOT NULL, location VARCHAR NOT NULL, kind VARCHAR NOT NULL, base VARCHAR,
			snapshot_time TIMESTAMPTZ, table_count BIGINT, row_count BIGINT, loaded_at TIMESTAMPTZ NOT NULL, tool VARCHAR)`,
		"INSERT INTO " + t + " (" + ledgerColumns + ") SELECT coalesce(max(seq), 0) + 1, CAST(? AS VARCHAR), CAST(? AS VARCHAR), " +
			"NULLIF(CAST(? AS VARCHAR), ''), CAST(? AS TIMESTAMPTZ), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TIMESTAMPTZ), CAST(? AS VARCHAR) FROM " + t,
	}
}

// writeLedger adds e to schema's ledger within tx.
func writeLedger(ctx context.Context, tx *sql.Tx, schema string, e warehouse.LedgerEntry) error {
	q := ledgerSQL(schema)
	if _, err := tx.ExecContext(ctx, q[0]); err != nil {
		return fmt.Errorf("create ledger %s.%s: %w", schema, warehouse.LedgerTable, err)
	}
	if _, err := tx.ExecContext(ctx, q[1], e.Location, string(e.Kind), e.Base, e.SnapshotTime.UTC(), e.Tables, e.Rows, e.LoadedAt.UTC(), e.Tool); err != nil {
		return fmt.Errorf("write ledger %s.%s: %w", schema, warehouse.LedgerTable, err)
	}
	return nil
}

// Ledger returns schema's ledger, oldest entry first; nil when schema has
// none.
func (w *Writer) Ledger(ctx context.Context, schema string) ([]warehouse.LedgerEntry, error) {
	var n int
	if err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = ? AND table_name = ? AND NOT temporary`, schema, warehouse.LedgerTable).Scan(&n); err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := w.db.QueryContext(ctx, "SELECT "+ledgerColumns+" FROM "+ident(schema)+"."+ident(warehouse.LedgerTable)+" ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
	out, err := warehouse.ScanLedger(rows)
	if err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	return out, nil
}
