//go:build !no_snowflake

package snowflake

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// ledgerColumns are the ledger's columns, in the order of
// insertLedgerSQL's values and Ledger's SELECT.
var ledgerColumns = warehouse.LedgerColumns

func ledgerTable(schema string) string { return quote(schema) + "." + quote(warehouse.LedgerTable) }

func ledgerColumnList() string {
	q := make([]string, len(ledgerColumns))
	for i, c := range ledgerColumns {
		q[i] = quote(c)
	}
	return strings.Join(q, ", ")
}

// createLedgerSQL creates schema's ledger when it is missing.
func createLedgerSQL(schema string) string {
	return "CREATE TABLE IF NOT EXISTS " + ledgerTable(schema) + ` ("seq" NUMBER(38,0) NOT NULL, "location" VARCHAR NOT NULL, "kind" VARCHAR NOT NULL,` +
		` "base" VARCHAR, "snapshot_time" TIMESTAMP_TZ, "table_count" NUMBER(38,0), "row_count" NUMBER(38,0), "loaded_at" TIMESTAMP_TZ NOT NULL, "tool" VARCHAR)`
}

// copyLedgerSQL copies the ledger of schema into the ledger of other (the
// staging schema a dump is swapped in from, so the ledger goes with it).
func copyLedgerSQL(schema, other string) string {
	cols := ledgerColumnList()
	return "INSERT INTO " + ledgerTable(other) + " (" + cols + ") SELECT " + cols + " FROM " + ledgerTable(schema)
}

// insertLedgerSQL adds e to schema's ledger, numbered the ledger's highest
// plus one. The values are literals: they are the loader's own (a bucket
// key, a kind, times, counts, the tool), escaped by literal.
func insertLedgerSQL(schema string, e warehouse.LedgerEntry) string {
	base := "NULL"
	if e.Base != "" {
		base = literal(e.Base)
	}
	ts := func(t interface{ Format(string) string }) string {
		return "TO_TIMESTAMP_TZ(" + literal(t.Format(tzLayout)) + ", " + literal(tzFormat) + ")"
	}
	vals := []string{
		`COALESCE(MAX("seq"), 0) + 1`, literal(e.Location), literal(string(e.Kind)), base, ts(e.SnapshotTime.UTC()),
		strconv.FormatInt(e.Tables, 10), strconv.FormatInt(e.Rows, 10), ts(e.LoadedAt.UTC()), literal(e.Tool),
	}
	return "INSERT INTO " + ledgerTable(schema) + " (" + ledgerColumnList() + ") SELECT " + strings.Join(vals, ", ") + " FROM " + ledgerTable(schema)
}

// ledgerExistsSQL counts schema's ledger in the DSN's database; bind the
// schema and warehouse.LedgerTable.
const ledgerExistsSQL = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`

func selectLedgerSQL(schema string) string {
	return "SELECT " + ledgerColumnList() + " FROM " + ledgerTable(schema) + ` ORDER BY "seq"`
}

// Ledger returns schema's ledger, oldest entry first; nil when schema has
// none.
func (w *Writer) Ledger(ctx context.Context, schema string) ([]warehouse.LedgerEntry, error) {
	var n int
	if err := w.db.QueryRowContext(ctx, ledgerExistsSQL, schema, warehouse.LedgerTable).Scan(&n); err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", schema, err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := w.db.QueryContext(ctx, selectLedgerSQL(schema))
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
