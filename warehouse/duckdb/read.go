//go:build !no_duckdb

package duckdb

import (
	"context"
	"fmt"
	"strings"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Read returns every row of table, in no particular order, with the
// table's columns; values have the Go types warehouse.Rows documents
// (a DOUBLE column, which holds floats and unconstrained numerics, reads
// as float64). It is meant for tests and small tables: it holds the whole
// table in memory.
func (w *Writer) Read(ctx context.Context, table string) (*warehouse.Table, error) {
	cols, err := tableColumns(ctx, w.db, table)
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", table, err)
	}
	if cols == nil {
		return nil, fmt.Errorf("read table %s: no such table", table)
	}
	out := &warehouse.Table{Columns: make([]warehouse.Column, len(cols))}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		t := parseType(c.typ)
		out.Columns[i] = warehouse.Column{Name: c.name, Type: t, Source: c.typ}
		exprs[i] = ident(c.name)
		if t.Kind == warehouse.KindJSON || (t.Kind == warehouse.KindText && !strings.HasPrefix(c.typ, "VARCHAR")) {
			// JSON (and any type without a kind) reads as its text.
			exprs[i] = "CAST(" + exprs[i] + " AS VARCHAR" + map[bool]string{true: "[]"}[t.Array] + ")"
		}
	}
	rows, err := w.db.QueryContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+ident(table))
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", table, err)
	}
	defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read table %s: %w", table, err)
		}
		for i, v := range vals {
			vals[i] = fromDuck(v)
		}
		out.Rows = append(out.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read table %s: %w", table, err)
	}
	return out, nil
}
