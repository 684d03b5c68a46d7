package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// DefaultSchema is the schema tables go to when the URL names none.
const DefaultSchema = "public"

// Writer loads query results into the tables of one PostgreSQL schema. It
// is safe for concurrent use.
type Writer struct {
	pool   *pgxpool.Pool
	schema string
}

// Open connects to the PostgreSQL warehouse at rawURL (postgres:// or
// postgresql://) and creates its schema when missing. The optional query
// parameter schema (default [DefaultSchema]) names the schema; every other
// parameter goes to pgx. No error of Open includes the URL's password.
func Open(ctx context.Context, rawURL string) (*Writer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The url.Error would repeat the URL, password included.
		return nil, errors.New("open postgres warehouse: not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("open postgres warehouse %s: scheme %q: want postgres or postgresql", u.Redacted(), u.Scheme)
	}
	q := u.Query()
	schema := cmp.Or(q.Get("schema"), DefaultSchema)
	q.Del("schema")
	u.RawQuery = q.Encode()
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("open postgres warehouse %s: %w", u.Redacted(), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres warehouse %s: %w", u.Redacted(), err)
	}
	w := &Writer{pool: pool, schema: schema}
	if err := w.ensureSchema(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres warehouse %s: %w", u.Redacted(), err)
	}
	return w, nil
}

// ensureSchema creates the schema unless it exists. Checking first keeps
// a role without CREATE on the database working on an existing schema.
func (w *Writer) ensureSchema(ctx context.Context) error {
	var exists bool
	err := w.pool.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", w.schema).Scan(&exists)
	if err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = w.pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{w.schema}.Sanitize())
	if err != nil {
		return fmt.Errorf("create schema %s: %w", w.schema, err)
	}
	return nil
}

// Close closes the connection pool, waiting for loads in progress.
func (w *Writer) Close() error {
	w.pool.Close()
	return nil
}

// tableColumn is a column of an existing table.
type tableColumn struct {
	warehouse.Column
	// ddl is the column's type as format_type spells it ("character varying(20)").
	ddl string
}

// Write loads rows into load.Table (see the package documentation for
// how each mode does it) and returns the number of rows loaded. A result
// whose column types conflict with the table's fails with a
// *warehouse.IncompatibleError and leaves the table as it was; so does
// any error of rows.
func (w *Writer) Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (n int64, err error) {
	if err := load.Validate(); err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("load %s: begin: %w", load.Table, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", w.schema+"."+load.Table); err != nil {
		return 0, fmt.Errorf("load %s: lock table: %w", load.Table, err)
	}
	existing, err := w.columns(ctx, tx, load.Table)
	if err != nil {
		return 0, fmt.Errorf("load %s: read table columns: %w", load.Table, err)
	}
	missing, conflicts := compare(existing, load.AllColumns())
	if len(conflicts) > 0 {
		return 0, &warehouse.IncompatibleError{Table: load.Table, Columns: conflicts}
	}
	if n, err = w.load(ctx, tx, load, existing, missing, rows); err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			// pgx may report the cancellation as the connection it closed
			// ("use of closed network connection"): say what happened.
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		return 0, fmt.Errorf("load %s: %w", load.Table, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("load %s: commit: %w", load.Table, err)
	}
	return n, nil
}

// load brings the table up to date (created, or its missing columns
// added), deletes the rows the load replaces — those of its _snapshot_date
// for append, all of them for replace, in both cases only its source's
// and those of no source — and copies the new rows in, all in
// tx: readers see the old rows until the commit and the new ones after it,
// and views and grants on the table stay.
func (w *Writer) load(ctx context.Context, tx pgx.Tx, load warehouse.Load, existing []tableColumn, missing []warehouse.Column, rows warehouse.Rows) (int64, error) {
	table := w.ident(load.Table)
	switch {
	case existing == nil:
		if _, err := tx.Exec(ctx, createTableSQL(table, nil, missing)); err != nil {
			return 0, fmt.Errorf("create table: %w", err)
		}
	case len(missing) > 0:
		if _, err := tx.Exec(ctx, addColumnsSQL(table, missing)); err != nil {
			return 0, fmt.Errorf("add columns: %w", err)
		}
	}
	if existing != nil {
		del, args := deleteSQL(table, load)
		if _, err := tx.Exec(ctx, del, args...); err != nil {
			if load.Mode == warehouse.Append {
				return 0, fmt.Errorf("delete snapshot %s: %w", load.Provenance.SnapshotDate.Format(time.DateOnly), err)
			}
			return 0, fmt.Errorf("delete the previous result: %w", err)
		}
	}
	return copyRows(ctx, tx, pgx.Identifier{w.schema, load.Table}, load, rows)
}

// deleteSQL returns the statement deleting the rows load replaces from
// table (quoted), and its arguments (warehouse.DeleteSQL).
func deleteSQL(table string, load warehouse.Load) (string, []any) {
	return warehouse.DeleteSQL(table, load, func(n int, _ warehouse.Column) string { return "$" + strconv.Itoa(n) })
}

// copyRows streams rows into table with COPY.
func copyRows(ctx context.Context, tx pgx.Tx, table pgx.Identifier, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	all := load.AllColumns()
	names := make([]string, len(all))
	for i, c := range all {
		names[i] = c.Name
	}
	src := &copySource{rows: rows, cols: load.Columns, prov: load.Provenance.Values()}
	n, err := tx.CopyFrom(ctx, table, names, src)
	if src.err != nil {
		// pgx reports it as the server's answer to CopyFail, losing the
		// error itself (and what errors.Is finds in it).
		err = src.err
	}
	if err != nil {
		return 0, fmt.Errorf("copy rows: %w", err)
	}
	return n, nil
}

// ident returns the quoted, schema-qualified name of table.
func (w *Writer) ident(table string) string {
	return pgx.Identifier{w.schema, table}.Sanitize()
}

// columns returns the columns of table in order, or nil when it does not exist.
func (w *Writer) columns(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) ([]tableColumn, error) {
	rows, err := q.Query(ctx, `
		SELECT a.attname, t.typname, a.atttypmod, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
		  AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, w.schema, table)
	if err != nil {
		return nil, err
	}
	var cols []tableColumn
	for rows.Next() {
		var c tableColumn
		var typmod int32
		if err := rows.Scan(&c.Name, &c.Source, &typmod, &c.ddl); err != nil {
			return nil, err
		}
		c.Type = warehouse.FromPostgres(c.Source, typmod)
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// compare returns the load's columns the table lacks and a description of
// each column whose type differs. A nil table lacks every column.
func compare(table []tableColumn, load []warehouse.Column) (missing []warehouse.Column, conflicts []string) {
	have := make(map[string]warehouse.Type, len(table))
	for _, c := range table {
		have[c.Name] = c.Type
	}
	return warehouse.CompareColumns(have, load, func(t warehouse.Type, c warehouse.Column) string {
		if t == normalize(c.Type) {
			return ""
		}
		return fmt.Sprintf("table has %v, result has %v", t, c.Type)
	})
}

// normalize drops what a type's Kind does not use.
func normalize(t warehouse.Type) warehouse.Type {
	if t.Kind != warehouse.KindNumeric {
		t.Precision, t.Scale = 0, 0
	}
	return t
}

// typeSQL returns the PostgreSQL type of t.
func typeSQL(t warehouse.Type) string {
	var s string
	switch t.Kind {
	case warehouse.KindInt:
		s = "bigint"
	case warehouse.KindNumeric:
		s = "numeric"
		if t.Precision > 0 {
			s = fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
		}
	case warehouse.KindFloat:
		s = "double precision"
	case warehouse.KindBool:
		s = "boolean"
	case warehouse.KindDate:
		s = "date"
	case warehouse.KindTimestamp:
		s = "timestamp"
	case warehouse.KindTimestampTZ:
		s = "timestamptz"
	case warehouse.KindInterval:
		s = "interval"
	case warehouse.KindJSON:
		s = "jsonb"
	default:
		s = "text"
	}
	if t.Array {
		s += "[]"
	}
	return s
}

// createTableSQL creates table with the existing columns (in their own
// types) followed by the added ones.
func createTableSQL(table string, existing []tableColumn, added []warehouse.Column) string {
	defs := make([]string, 0, len(existing)+len(added))
	for _, c := range existing {
		defs = append(defs, pgx.Identifier{c.Name}.Sanitize()+" "+c.ddl)
	}
	for _, c := range added {
		defs = append(defs, pgx.Identifier{c.Name}.Sanitize()+" "+typeSQL(c.Type))
	}
	return "CREATE TABLE " + table + " (" + strings.Join(defs, ", ") + ")"
}

func addColumnsSQL(table string, added []warehouse.Column) string {
	adds := make([]string, len(added))
	for i, c := range added {
		adds[i] = "ADD COLUMN " + pgx.Identifier{c.Name}.Sanitize() + " " + typeSQL(c.Type)
	}
	return "ALTER TABLE " + table + " " + strings.Join(adds, ", ")
}

// copySource adapts warehouse.Rows to pgx.CopyFromSource: it converts the
// values to what pgx encodes and appends the provenance values.
type copySource struct {
	rows warehouse.Rows
	cols []warehouse.Column
	prov []any
	buf  []any
	row  int64
	err  error // the error of Values or Err that stopped the copy
}

func (s *copySource) Next() bool { return s.rows.Next() }

func (s *copySource) Values() ([]any, error) {
	s.row++
	vals, err := s.values()
	if err != nil {
		s.err = err
		return nil, err
	}
	return vals, nil
}

func (s *copySource) values() ([]any, error) {
	vals, err := s.rows.Values()
	if err != nil {
		return nil, err
	}
	if len(vals) != len(s.cols) {
		return nil, fmt.Errorf("row %d: %d values for %d columns", s.row, len(vals), len(s.cols))
	}
	s.buf = s.buf[:0]
	for i, v := range vals {
		pv, err := toPG(v)
		if err != nil {
			return nil, fmt.Errorf("row %d: column %s: %w", s.row, s.cols[i].Name, err)
		}
		s.buf = append(s.buf, pv)
	}
	return append(s.buf, s.prov...), nil
}

func (s *copySource) Err() error {
	if err := s.rows.Err(); err != nil {
		s.err = err
		return err
	}
	return nil
}

// toPG converts a warehouse value to one pgx encodes into the column's type.
func toPG(v any) (any, error) {
	switch v := v.(type) {
	case warehouse.Decimal:
		i := v.Int
		if i == nil {
			i = new(big.Int)
		}
		return pgtype.Numeric{Int: i, Exp: -v.Scale, Valid: true}, nil
	case warehouse.Interval:
		return pgtype.Interval{Months: v.Months, Days: v.Days, Microseconds: v.Microseconds, Valid: true}, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			if _, nested := e.([]any); nested {
				return nil, fmt.Errorf("element %d: nested arrays are not supported", i)
			}
			pe, err := toPG(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = pe
		}
		return out, nil
	}
	return v, nil
}

// Read returns every row of table (in no particular order) with its
// columns, values in the Go types warehouse.Rows documents. It is for
// tests and for comparing loads.
func (w *Writer) Read(ctx context.Context, table string) (*warehouse.Table, error) {
	cols, err := w.columns(ctx, w.pool, table)
	if err != nil {
		return nil, fmt.Errorf("read %s: columns: %w", table, err)
	}
	if cols == nil {
		return nil, fmt.Errorf("read %s: table does not exist in schema %s", table, w.schema)
	}
	out := &warehouse.Table{Columns: make([]warehouse.Column, len(cols))}
	sel := make([]string, len(cols))
	for i, c := range cols {
		out.Columns[i] = c.Column
		sel[i] = pgx.Identifier{c.Name}.Sanitize()
		if k := c.Type.Kind; k == warehouse.KindText || k == warehouse.KindJSON {
			// As text, whatever the type (jsonb, uuid, varchar): what Rows holds.
			sel[i] += "::text"
			if c.Type.Array {
				sel[i] += "[]"
			}
		}
	}
	rows, err := w.pool.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+w.ident(table))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			if row[i], err = fromPG(v, cols[i].Type); err != nil {
				return nil, fmt.Errorf("read %s: column %s: %w", table, cols[i].Name, err)
			}
		}
		out.Rows = append(out.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

// fromPG converts a value pgx decoded to the Go type of t's kind.
func fromPG(v any, t warehouse.Type) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case float32:
		return float64(v), nil
	case time.Time:
		return v.UTC(), nil
	case pgtype.Numeric:
		return decimal(v, t.Scale)
	case pgtype.Interval:
		return warehouse.Interval{Months: v.Months, Days: v.Days, Microseconds: v.Microseconds}, nil
	case []any:
		et := t
		et.Array = false
		out := make([]any, len(v))
		for i, e := range v {
			var err error
			if out[i], err = fromPG(e, et); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return out, nil
	}
	return v, nil
}

// decimal converts n to a Decimal, with the column's scale when it has
// one and the fewest digits otherwise.
func decimal(n pgtype.Numeric, scale int) (warehouse.Decimal, error) {
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		return warehouse.Decimal{}, errors.New("numeric NaN or infinity has no Decimal")
	}
	d := warehouse.Decimal{Int: n.Int, Scale: -n.Exp}
	if d.Int == nil {
		d.Int = new(big.Int)
	}
	if d.Scale < 0 {
		d = d.Rescale(0)
	}
	if scale > 0 {
		d = d.Rescale(int32(scale))
	}
	return d, nil
}
