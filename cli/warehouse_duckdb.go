//go:build !no_duckdb

package cli

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
)

func openDuckDB(ctx context.Context, url string) (warehouseWriter, error) {
	return duckdb.OpenURL(ctx, url)
}

// readDuckDB reads table ("name" in the main schema, or "schema.name",
// such as the dump's gitlab_public.projects) of the DuckDB file at path,
// opened read-only: show neither creates the file nor takes its write
// lock. When there is no such table it returns errNoTable and the tables
// the file holds.
func readDuckDB(ctx context.Context, path, table string) (*warehouse.Table, []string, error) {
	c, err := duckdbgo.NewConnector(path+"?access_mode=read_only", func(e driver.ExecerContext) error {
		_, err := e.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	defer func() { _ = db.Close() }() // read-only
	var tables []string
	rows, err := db.QueryContext(ctx, `SELECT CASE WHEN schema_name = 'main' THEN '' ELSE schema_name || '.' END || table_name
		FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary AND NOT internal ORDER BY schema_name <> 'main', 1`)
	if err != nil {
		return nil, nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, nil, err
		}
		tables = append(tables, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, err
	}
	found := false
	for _, n := range tables {
		found = found || n == table || n == "main."+table
	}
	if !found {
		return nil, tables, errNoTable
	}
	schema, name, ok := strings.Cut(table, ".")
	if !ok {
		schema, name = "main", table
	}
	rows, err = db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(schema)+"."+quoteIdent(name))
	if err != nil {
		return nil, tables, fmt.Errorf("read %s: %w", table, err)
	}
	defer func() { _ = rows.Close() }() // read-only
	return scanTable(rows)
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// scanTable reads rows into a Table for printing: the values as the driver
// gives them.
func scanTable(rows *sql.Rows) (*warehouse.Table, []string, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	tb := &warehouse.Table{Columns: make([]warehouse.Column, len(cols))}
	for i, c := range cols {
		tb.Columns[i] = warehouse.Column{Name: c}
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		tb.Rows = append(tb.Rows, vals)
	}
	return tb, nil, rows.Err()
}
