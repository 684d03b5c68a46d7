//go:build !no_duckdb

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	duckdbgo "github.com/duckdb/duckdb-go/v2"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Writer loads query results into a DuckDB file. It is safe for
// concurrent use.
type Writer struct {
	db   *sql.DB
	path string
	// commit serializes the transactions that change tables.
	commit chan struct{}
	seq    atomic.Int64

	// mem guards loadColumns, the columns of the loads in flight, from
	// which memory_limit is set (see the package documentation).
	mem         sync.Mutex
	loadColumns int
}

// Open opens the DuckDB file at path, creating it (and its directory) if
// needed.
func Open(ctx context.Context, path string) (*Writer, error) {
	if path == "" {
		return nil, errors.New("open duckdb: empty path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open duckdb %s: %w", path, err)
		}
	}
	c, err := duckdbgo.NewConnector(path, func(e driver.ExecerContext) error {
		_, err := e.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping error is the one to report; nothing was written
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	return &Writer{db: db, path: path, commit: make(chan struct{}, 1)}, nil
}

// OpenURL opens the file a warehouse.url names: duckdb:///abs/path.duckdb
// (absolute) or duckdb://relative/path.duckdb (relative to the working
// directory).
func OpenURL(ctx context.Context, url string) (*Writer, error) {
	path, err := PathFromURL(url)
	if err != nil {
		return nil, err
	}
	return Open(ctx, path)
}

// PathFromURL returns the file path of a duckdb:// URL.
func PathFromURL(url string) (string, error) {
	rest, ok := strings.CutPrefix(url, "duckdb://")
	switch {
	case !ok:
		return "", fmt.Errorf("open duckdb %q: not a duckdb:// URL (want duckdb:///abs/path.duckdb or duckdb://relative/path.duckdb)", url)
	case rest == "" || rest == "/":
		return "", fmt.Errorf("open duckdb %q: no file path (want duckdb:///abs/path.duckdb or duckdb://relative/path.duckdb)", url)
	case strings.ContainsAny(rest, "?#"):
		return "", fmt.Errorf("open duckdb %q: query parameters and fragments are not supported", url)
	case strings.HasSuffix(rest, "/"):
		return "", fmt.Errorf("open duckdb %q: names a directory, not a file", url)
	}
	return rest, nil
}

// Path returns the file the writer writes.
func (w *Writer) Path() string { return w.path }

// Close closes the database file.
func (w *Writer) Close() error {
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("close duckdb %s: %w", w.path, err)
	}
	return nil
}

// TableInfo is one table of the warehouse.
type TableInfo struct {
	Name string
	Rows int64
}

// Tables returns the warehouse's tables, by name, with their row counts.
func (w *Writer) Tables(ctx context.Context) ([]TableInfo, error) {
	names, err := w.tableNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := make([]TableInfo, 0, len(names))
	for _, n := range names {
		ti := TableInfo{Name: n}
		if err := w.db.QueryRowContext(ctx, "SELECT count(*) FROM "+ident(n)).Scan(&ti.Rows); err != nil {
			return nil, fmt.Errorf("count rows of table %s: %w", n, err)
		}
		out = append(out, ti)
	}
	return out, nil
}

func (w *Writer) tableNames(ctx context.Context) ([]string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary
		ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// ident quotes an identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqlType is the DuckDB type of a column type, spelled as DuckDB reports
// it in duckdb_columns().data_type.
func sqlType(t warehouse.Type) string {
	var s string
	switch t.Kind {
	case warehouse.KindInt:
		s = "BIGINT"
	case warehouse.KindNumeric:
		if t.Precision > 0 && t.Precision <= 38 {
			s = fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
		} else {
			s = "DOUBLE"
		}
	case warehouse.KindFloat:
		s = "DOUBLE"
	case warehouse.KindBool:
		s = "BOOLEAN"
	case warehouse.KindDate:
		s = "DATE"
	case warehouse.KindTimestamp:
		s = "TIMESTAMP"
	case warehouse.KindTimestampTZ:
		s = "TIMESTAMP WITH TIME ZONE"
	case warehouse.KindInterval:
		s = "INTERVAL"
	case warehouse.KindJSON:
		s = "JSON"
	default:
		s = "VARCHAR"
	}
	if t.Array {
		s += "[]"
	}
	return s
}

// stageType is the type of a column in the staging table: its table type,
// but JSON staged as text (the Appender would encode a string as a JSON
// string) and cast on the way into the table.
func stageType(t warehouse.Type) string {
	if t.Kind == warehouse.KindJSON {
		t.Kind = warehouse.KindText
	}
	return sqlType(t)
}

// parseType maps a DuckDB data_type back to a column type.
func parseType(s string) warehouse.Type {
	var t warehouse.Type
	if elem, ok := strings.CutSuffix(s, "[]"); ok {
		t.Array, s = true, elem
	}
	switch {
	case s == "BIGINT" || s == "INTEGER" || s == "SMALLINT" || s == "TINYINT" || s == "HUGEINT" ||
		s == "UBIGINT" || s == "UINTEGER" || s == "USMALLINT" || s == "UTINYINT":
		t.Kind = warehouse.KindInt
	case strings.HasPrefix(s, "DECIMAL("):
		t.Kind = warehouse.KindNumeric
		p, sc, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(s, "DECIMAL("), ")"), ",")
		t.Precision, _ = strconv.Atoi(p)
		t.Scale, _ = strconv.Atoi(sc)
	case s == "DOUBLE" || s == "FLOAT":
		t.Kind = warehouse.KindFloat
	case s == "BOOLEAN":
		t.Kind = warehouse.KindBool
	case s == "DATE":
		t.Kind = warehouse.KindDate
	case s == "TIMESTAMP":
		t.Kind = warehouse.KindTimestamp
	case s == "TIMESTAMP WITH TIME ZONE":
		t.Kind = warehouse.KindTimestampTZ
	case s == "INTERVAL":
		t.Kind = warehouse.KindInterval
	case s == "JSON":
		t.Kind = warehouse.KindJSON
	default:
		t.Kind = warehouse.KindText
	}
	return t
}

// toDuck converts a value of the type warehouse.Rows documents for t to
// what the Appender takes for sqlType(t).
func toDuck(t warehouse.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.Array {
		elems, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want []any for %v, got %T", t, v)
		}
		out := make([]any, len(elems))
		et := t
		et.Array = false
		for i, e := range elems {
			var err error
			if out[i], err = toDuck(et, e); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return out, nil
	}
	switch t.Kind {
	case warehouse.KindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		}
	case warehouse.KindNumeric:
		d, ok := v.(warehouse.Decimal)
		if !ok {
			break
		}
		if sqlType(t) == "DOUBLE" {
			return d.Float64(), nil
		}
		r := d.Rescale(int32(t.Scale))
		if r.Int == nil {
			r.Int = new(big.Int)
		}
		if len(new(big.Int).Abs(r.Int).String()) > t.Precision {
			return nil, fmt.Errorf("%s does not fit numeric(%d,%d)", d, t.Precision, t.Scale)
		}
		return duckdbgo.Decimal{Width: uint8(t.Precision), Scale: uint8(t.Scale), Value: r.Int}, nil
	case warehouse.KindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		}
	case warehouse.KindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case warehouse.KindDate:
		if tm, ok := v.(time.Time); ok {
			return warehouse.Date(tm), nil
		}
	case warehouse.KindTimestamp:
		if tm, ok := v.(time.Time); ok {
			return tm, nil
		}
	case warehouse.KindTimestampTZ:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC(), nil
		}
	case warehouse.KindInterval:
		if iv, ok := v.(warehouse.Interval); ok {
			return duckdbgo.Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Microseconds}, nil
		}
	default: // text, json
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("want a %s value, got %T", t, v)
}

// fromDuck converts a scanned DuckDB value to the type warehouse.Rows
// documents.
func fromDuck(v any) any {
	switch x := v.(type) {
	case duckdbgo.Decimal:
		return warehouse.Decimal{Int: x.Value, Scale: int32(x.Scale)}
	case duckdbgo.Interval:
		return warehouse.Interval{Months: x.Months, Days: x.Days, Microseconds: x.Micros}
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case float32:
		return float64(x)
	case *big.Int:
		return warehouse.Decimal{Int: x}
	case time.Time:
		return x.UTC()
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromDuck(e)
		}
		return out
	}
	return v
}
