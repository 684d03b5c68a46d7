//go:build !no_snowflake

package snowflake

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Writer loads query results into the tables of one Snowflake schema. It
// is safe for concurrent use; each load runs on a session of its own.
type Writer struct {
	db *sql.DB
	// FileSize is the uncompressed size at which a load starts a new file;
	// zero means DefaultFileSize.
	FileSize int64
}

// Open connects to the Snowflake warehouse at dsn,
// snowflake://user:password@account/database/schema?warehouse=…
// (a gosnowflake DSN behind the scheme). Tables go to the DSN's schema,
// which must exist. No error of Open includes the password.
func Open(ctx context.Context, dsn string) (*Writer, error) {
	rest, ok := strings.CutPrefix(dsn, "snowflake://")
	if !ok {
		return nil, errors.New("open snowflake warehouse: DSN must start with snowflake://")
	}
	cfg, err := sf.ParseDSN(rest)
	if err != nil {
		return nil, fmt.Errorf("open snowflake warehouse: parse DSN: %w", redact(err, dsn))
	}
	if cfg.Database == "" || cfg.Schema == "" {
		return nil, fmt.Errorf("open snowflake warehouse %s: DSN names no database/schema", cfg.Account)
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping error is the one to report; nothing was written
		return nil, fmt.Errorf("open snowflake warehouse %s: %w", cfg.Account, redact(err, cfg.Password))
	}
	return &Writer{db: db}, nil
}

// redact replaces the secret in err's message, if it shows.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "xxxxx"))
}

// Close closes the connections.
func (w *Writer) Close() error { return w.db.Close() }

// tableColumn is a column of an existing table.
type tableColumn struct {
	Name    string
	SQLType string // typeSQL's spelling: NUMBER(12,2), VARCHAR, …
	Type    warehouse.Type
	Comment string
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// columns returns the columns of table, or nil when it does not exist.
func columns(ctx context.Context, q queryer, table string) ([]tableColumn, error) {
	rows, err := q.QueryContext(ctx, columnsSQL, table)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
	var cols []tableColumn
	for rows.Next() {
		var (
			c        tableColumn
			dataType string
			prec, sc sql.NullInt64
			comment  sql.NullString
		)
		if err := rows.Scan(&c.Name, &dataType, &prec, &sc, &comment); err != nil {
			return nil, err
		}
		c.SQLType = physical(dataType, int(prec.Int64), int(sc.Int64))
		c.Comment = comment.String
		c.Type = logicalOf(c.SQLType, c.Comment)
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// compare returns the load's columns the table lacks and a description of
// each column whose Snowflake type, or recorded logical type, differs.
func compare(table []tableColumn, load []warehouse.Column) (missing []warehouse.Column, conflicts []string) {
	have := make(map[string]tableColumn, len(table))
	for _, c := range table {
		have[c.Name] = c
	}
	return warehouse.CompareColumns(have, load, func(t tableColumn, c warehouse.Column) string {
		if t.SQLType == typeSQL(c.Type) && t.Type.String() == c.Type.String() {
			return ""
		}
		return fmt.Sprintf("table has %v, result has %v", t.Type, c.Type)
	})
}

// Write loads rows into load.Table and returns the number of rows loaded.
// The rows are spooled to gzip CSV files, PUT on a temporary stage and
// copied into a temporary table in one COPY INTO; then one transaction
// deletes the rows the load replaces (its snapshot's for append, all for
// replace; of its source only when it has one) and inserts the new ones. A
// result whose column types conflict with the table's fails with a
// *warehouse.IncompatibleError and leaves the table as it was; so does any
// error of rows.
func (w *Writer) Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	if err := load.Validate(); err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("load %s: connect: %w", load.Table, err)
	}
	// Close returns the session to the pool; the load has committed or
	// failed by then, so its error loses nothing.
	defer func() { _ = conn.Close() }()
	n, err := w.write(ctx, conn, load, rows)
	if err != nil {
		var ie *warehouse.IncompatibleError
		if errors.As(err, &ie) {
			return 0, err
		}
		return 0, fmt.Errorf("load %s: %w", load.Table, err)
	}
	return n, nil
}

func (w *Writer) write(ctx context.Context, conn *sql.Conn, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	existing, err := columns(ctx, conn, load.Table)
	if err != nil {
		return 0, fmt.Errorf("read table columns: %w", err)
	}
	missing, conflicts := compare(existing, load.AllColumns())
	if len(conflicts) > 0 {
		return 0, &warehouse.IncompatibleError{Table: load.Table, Columns: conflicts}
	}

	suffix := randomSuffix()
	stage, raw := load.Table+"__mg_stage_"+suffix, load.Table+"__mg_raw_"+suffix
	exec := func(what, query string, args ...any) error {
		if _, err := conn.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	// Temporary objects vanish with the session; dropping them now keeps
	// a pooled session clean.
	defer func() {
		// Best effort: what is not dropped here vanishes with the session.
		cleanup := context.WithoutCancel(ctx)
		_, _ = conn.ExecContext(cleanup, "DROP STAGE IF EXISTS "+quote(stage))
		_, _ = conn.ExecContext(cleanup, dropSQL(raw))
	}()
	if err := exec("create stage", createStageSQL(stage)); err != nil {
		return 0, err
	}
	if err := exec("create raw table", rawTableSQL(raw, load.Columns)); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "metricgate-snowflake-")
	if err != nil {
		return 0, fmt.Errorf("spool rows: %w", err)
	}
	// Best effort: a spool directory left behind is only temporary files.
	defer func() { _ = os.RemoveAll(dir) }()
	files := 0
	n, err := spool(rows, load.Columns, dir, cmpOr(w.FileSize, DefaultFileSize), func(path string) error {
		files++
		if err := exec("put "+path, putSQL(path, stage)); err != nil {
			return err
		}
		return os.Remove(path)
	})
	if err != nil {
		return 0, err
	}
	if files > 0 {
		if err := exec("copy into raw table", copySQL(raw, stage)); err != nil {
			return 0, err
		}
	}

	// Both modes delete the rows the load replaces and insert the new
	// ones in one transaction. Replace used to fill a new table and swap
	// it in, but with several sources a replace keeps the other sources'
	// rows, and a copy-and-swap would lose those a concurrent load of
	// another source committed in between; DELETE takes the table's lock,
	// so two such transactions run one after the other.
	if err := evolve(ctx, conn, load.Table, existing, missing); err != nil {
		return 0, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	// A no-op after Commit; on an earlier error, that error is the one to
	// report, and an uncommitted transaction changes nothing.
	defer func() { _ = tx.Rollback() }()
	del, args := deleteSQL(load)
	if _, err := tx.ExecContext(ctx, del, args...); err != nil {
		return 0, fmt.Errorf("delete the rows the load replaces: %w", err)
	}
	if _, err := tx.ExecContext(ctx, insertSQL(load.Table, raw, load.Columns), provenanceArgs(load.Provenance)...); err != nil {
		return 0, fmt.Errorf("insert rows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}

// evolve creates a load's table or adds the columns it lacks.
// Snowflake commits DDL at once, so this runs before the load's
// transaction; a column added for a load that then fails stays, NULL.
func evolve(ctx context.Context, conn *sql.Conn, table string, existing []tableColumn, missing []warehouse.Column) error {
	if existing == nil {
		defs := make([]columnDef, len(missing))
		for i, c := range missing {
			defs[i] = defOf(c)
		}
		if _, err := conn.ExecContext(ctx, createTableSQL(table, defs, true)); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
		return nil
	}
	for _, c := range missing {
		d := defOf(c)
		if _, err := conn.ExecContext(ctx, addColumnSQL(table, d)); err != nil {
			return fmt.Errorf("add column %s: %w", c.Name, err)
		}
		if _, err := conn.ExecContext(ctx, commentSQL(table, d)); err != nil {
			return fmt.Errorf("comment column %s: %w", c.Name, err)
		}
	}
	return nil
}

func cmpOr(a, b int64) int64 {
	if a > 0 {
		return a
	}
	return b
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Read returns every row of table (in no particular order) with its
// columns. Values have the Go types warehouse.Rows documents for the type
// Snowflake holds: a numeric loaded as FLOAT reads as float64; an interval
// (VARCHAR) reads back as a warehouse.Interval, its logical type being
// recorded in the column's comment.
func (w *Writer) Read(ctx context.Context, table string) (*warehouse.Table, error) {
	cols, err := columns(ctx, w.db, table)
	if err != nil {
		return nil, fmt.Errorf("read %s: columns: %w", table, err)
	}
	if cols == nil {
		return nil, fmt.Errorf("read %s: table does not exist", table)
	}
	out := &warehouse.Table{Columns: make([]warehouse.Column, len(cols))}
	for i, c := range cols {
		out.Columns[i] = warehouse.Column{Name: c.Name, Type: c.Type, Source: c.SQLType}
	}
	rows, err := w.db.QueryContext(ctx, readSQL(table, cols))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
	for rows.Next() {
		dest := make([]any, len(cols))
		for i, c := range cols {
			switch c.SQLType {
			case "FLOAT":
				dest[i] = new(sql.NullFloat64)
			case "BOOLEAN":
				dest[i] = new(sql.NullBool)
			default:
				dest[i] = new(sql.NullString)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		row := make([]any, len(cols))
		for i, c := range cols {
			switch d := dest[i].(type) {
			case *sql.NullFloat64:
				if d.Valid {
					row[i] = d.Float64
				}
			case *sql.NullBool:
				if d.Valid {
					row[i] = d.Bool
				}
			case *sql.NullString:
				if d.Valid {
					if row[i], err = readValue(d.String, c); err != nil {
						return nil, fmt.Errorf("read %s: column %s: %w", table, c.Name, err)
					}
				}
			}
		}
		out.Rows = append(out.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

// readValue parses the text readSQL selects for column c.
func readValue(s string, c tableColumn) (any, error) {
	if c.Type.Array {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var elems []json.RawMessage
		if err := dec.Decode(&elems); err != nil {
			return nil, fmt.Errorf("parse array: %w", err)
		}
		et := c.Type
		et.Array = false
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := arrayElement(e, et)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	switch c.SQLType {
	case "DATE":
		return time.Parse(dateLayout, s)
	case "TIMESTAMP_NTZ":
		return time.Parse(ntzLayout, s)
	case "TIMESTAMP_TZ", "TIMESTAMP_LTZ":
		t, err := time.Parse(tzLayout, s)
		return t.UTC(), err
	case "VARIANT", "OBJECT":
		return s, nil
	}
	if strings.HasPrefix(c.SQLType, "NUMBER(") {
		return parseNumber(s, c.Type)
	}
	if c.Type.Kind == warehouse.KindInterval {
		return parseInterval(s)
	}
	return s, nil
}

// arrayElement converts one JSON element written by jsonElement back.
func arrayElement(e json.RawMessage, t warehouse.Type) (any, error) {
	if string(e) == "null" {
		return nil, nil
	}
	switch t.Kind {
	case warehouse.KindJSON:
		var b bytes.Buffer
		if err := json.Compact(&b, e); err != nil {
			return nil, err
		}
		return b.String(), nil
	case warehouse.KindBool:
		var v bool
		err := json.Unmarshal(e, &v)
		return v, err
	}
	text := string(e)
	if len(e) > 0 && e[0] == '"' {
		if err := json.Unmarshal(e, &text); err != nil {
			return nil, err
		}
	}
	switch t.Kind {
	case warehouse.KindInt, warehouse.KindNumeric:
		return parseNumber(text, t)
	case warehouse.KindFloat:
		return parseFloat(text)
	case warehouse.KindDate:
		return time.Parse(dateLayout, text)
	case warehouse.KindTimestamp:
		return time.Parse(ntzLayout, text)
	case warehouse.KindTimestampTZ:
		ts, err := time.Parse(tzLayout, text)
		return ts.UTC(), err
	case warehouse.KindInterval:
		return parseInterval(text)
	}
	return text, nil
}

func parseFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "inf", "infinity":
		s = "+Inf"
	case "-inf", "-infinity":
		s = "-Inf"
	}
	return strconv.ParseFloat(s, 64)
}

// parseNumber parses decimal text as t's Go type: int64 for an int,
// Decimal (at t's scale) for a numeric stored exactly.
func parseNumber(s string, t warehouse.Type) (any, error) {
	if t.Kind == warehouse.KindInt {
		return strconv.ParseInt(s, 10, 64)
	}
	if t.Kind != warehouse.KindNumeric {
		return parseFloat(s)
	}
	if strings.ContainsAny(s, "eE") {
		return parseFloat(s)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	i, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return nil, fmt.Errorf("parse number %q", s)
	}
	d := warehouse.Decimal{Int: i, Scale: int32(len(frac))}
	if t.Precision > 0 {
		d = d.Rescale(int32(t.Scale))
	}
	return d, nil
}

// parseInterval parses warehouse.Interval.String's ISO 8601 output.
func parseInterval(s string) (warehouse.Interval, error) {
	var iv warehouse.Interval
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		return iv, fmt.Errorf("parse interval %q: no P", s)
	}
	date, clock, _ := strings.Cut(rest, "T")
	bad := func() (warehouse.Interval, error) { return warehouse.Interval{}, fmt.Errorf("parse interval %q", s) }
	for date != "" {
		i := strings.IndexAny(date, "YMD")
		if i <= 0 {
			return bad()
		}
		v, err := strconv.ParseInt(date[:i], 10, 32)
		if err != nil {
			return bad()
		}
		switch date[i] {
		case 'Y':
			iv.Months += int32(v) * 12
		case 'M':
			iv.Months += int32(v)
		case 'D':
			iv.Days = int32(v)
		}
		date = date[i+1:]
	}
	for clock != "" {
		i := strings.IndexAny(clock, "HMS")
		if i <= 0 {
			return bad()
		}
		num := clock[:i]
		switch clock[i] {
		case 'H', 'M':
			v, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				return bad()
			}
			unit := int64(3_600_000_000)
			if clock[i] == 'M' {
				unit = 60_000_000
			}
			iv.Microseconds += v * unit
		case 'S':
			neg := strings.HasPrefix(num, "-")
			num = strings.TrimPrefix(num, "-")
			sec, frac, _ := strings.Cut(num, ".")
			if len(frac) > 6 {
				return bad()
			}
			secs, err1 := strconv.ParseInt(sec, 10, 64)
			us, err2 := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
			if err1 != nil || err2 != nil {
				return bad()
			}
			v := secs*1_000_000 + us
			if neg {
				v = -v
			}
			iv.Microseconds += v
		}
		clock = clock[i+1:]
	}
	return iv, nil
}
