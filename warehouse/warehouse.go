package warehouse

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Mode says how a load changes its table.
type Mode string

// Load modes, as in a query's load header.
const (
	// Append keeps one slice of rows per snapshot date and source: a load
	// deletes the rows of its _snapshot_date and _source and inserts its
	// own in one transaction, so a rerun for the same date and source
	// leaves exactly one copy, and other sources' rows stay.
	Append Mode = "append"
	// Replace keeps only the latest result of each source: a load replaces
	// the rows of its _source atomically, and other sources' rows stay.
	Replace Mode = "replace"
)

// Kind is the logical type of a column, what a writer maps to its own types.
type Kind int

// The kinds of columns. The PostgreSQL types each stands for are in the
// package documentation.
const (
	KindText        Kind = iota + 1 // text, varchar, char, name, uuid and every type not listed below
	KindInt                         // int2, int4, int8, oid
	KindNumeric                     // numeric, with Precision and Scale when the type has them
	KindFloat                       // float4, float8
	KindBool                        // bool
	KindDate                        // date
	KindTimestamp                   // timestamp without time zone
	KindTimestampTZ                 // timestamp with time zone
	KindInterval                    // interval
	KindJSON                        // json, jsonb
)

var kindNames = map[Kind]string{
	KindText: "text", KindInt: "int", KindNumeric: "numeric", KindFloat: "float", KindBool: "bool",
	KindDate: "date", KindTimestamp: "timestamp", KindTimestampTZ: "timestamptz",
	KindInterval: "interval", KindJSON: "json",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Type is a column's type.
type Type struct {
	// Kind is the logical type; for an array, the type of its elements.
	Kind Kind
	// Array is true for a one-dimensional array of Kind.
	Array bool
	// Precision and Scale are a numeric's declared digits; 0 and 0 for an
	// unconstrained numeric.
	Precision, Scale int
}

func (t Type) String() string {
	s := t.Kind.String()
	if t.Kind == KindNumeric && t.Precision > 0 {
		s = fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	}
	if t.Array {
		s += "[]"
	}
	return s
}

// Column is one column of a load.
type Column struct {
	// Name is the column name: lower-case snake_case, as the guard requires.
	Name string
	// Type is its type.
	Type Type
	// Source is the PostgreSQL type name the column had in the source
	// (pg_type.typname, "_int4" for int4[]), for messages and manifests.
	Source string
}

// Load describes one write of a query result into its table.
type Load struct {
	// Table is the warehouse table: a lower-case identifier.
	Table string
	// Mode is Append or Replace.
	Mode Mode
	// Columns are the result's columns, in order, without the provenance
	// columns, which the writer adds (see ProvenanceColumns).
	Columns []Column
	// Provenance is stamped on every row.
	Provenance Provenance
}

// Validate names the first thing about l a writer cannot load.
func (l Load) Validate() error {
	if !IsIdent(l.Table) || strings.HasPrefix(l.Table, "_") {
		return fmt.Errorf("table %q: not a lower-case identifier starting with a letter", l.Table)
	}
	if l.Mode != Append && l.Mode != Replace {
		return fmt.Errorf("table %s: load mode %q: must be append or replace", l.Table, l.Mode)
	}
	if len(l.Columns) == 0 {
		return fmt.Errorf("table %s: no columns", l.Table)
	}
	seen := map[string]bool{}
	for _, p := range ProvenanceColumns {
		seen[p.Name] = true
	}
	for _, c := range l.Columns {
		if !IsIdent(c.Name) || strings.HasPrefix(c.Name, "_") {
			return fmt.Errorf("table %s: column %q: not a lower-case identifier without a leading _", l.Table, c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("table %s: column %q appears twice", l.Table, c.Name)
		}
		seen[c.Name] = true
		if _, ok := kindNames[c.Type.Kind]; !ok {
			return fmt.Errorf("table %s: column %s: unknown type %v", l.Table, c.Name, c.Type)
		}
	}
	if l.Provenance.SnapshotDate.IsZero() {
		return fmt.Errorf("table %s: no snapshot date", l.Table)
	}
	return nil
}

// AllColumns returns the load's columns followed by the provenance columns:
// the columns of the warehouse table.
func (l Load) AllColumns() []Column {
	cols := make([]Column, 0, len(l.Columns)+len(ProvenanceColumns))
	cols = append(cols, l.Columns...)
	return append(cols, ProvenanceColumns...)
}

// Provenance is what every loaded row records about where it came from.
type Provenance struct {
	// SnapshotDate is the date (UTC) of the source's as-of time: the slice an
	// append load replaces. Only its date counts.
	SnapshotDate time.Time
	// RunID is the history database's id of the run.
	RunID int64
	// QuerySHA256 is the hex SHA-256 of the query file that produced the row.
	QuerySHA256 string
	// Commit is the commit the query file was approved at; "" when approval
	// is off.
	Commit string
	// LoadedAt is when the load started.
	LoadedAt time.Time
	// MRIID is the IID of the GitLab merge request through which the query
	// file was approved (approval gitlab); 0, stored as NULL, when none.
	MRIID int64
	// Source is the name of the source database the rows were computed
	// on (sources.<name> in the config). A load replaces only the rows of
	// its source (for append, of its source and snapshot date), so the
	// sources of one role fill one table side by side. Rows whose _source
	// is NULL — loaded before the column existed, or by a load with
	// Source "" — belong to every source: any load deletes them as its own.
	// "" is stored as NULL, and such a load replaces the rows of every
	// source, as loads did before there were several sources.
	Source string
}

// Scoped reports whether the load replaces the rows of its own source
// only (p.Source is set) rather than those of every source.
func (p Provenance) Scoped() bool { return p.Source != "" }

// ProvenanceColumns are the columns every warehouse table ends with, in
// this order. Their names start with "_", which no query column may.
var ProvenanceColumns = []Column{
	{Name: "_snapshot_date", Type: Type{Kind: KindDate}, Source: "date"},
	{Name: "_run_id", Type: Type{Kind: KindInt}, Source: "int8"},
	{Name: "_query_sha256", Type: Type{Kind: KindText}, Source: "text"},
	{Name: "_commit", Type: Type{Kind: KindText}, Source: "text"},
	{Name: "_loaded_at", Type: Type{Kind: KindTimestampTZ}, Source: "timestamptz"},
	{Name: "_mr_iid", Type: Type{Kind: KindInt}, Source: "int8"},
	{Name: "_source", Type: Type{Kind: KindText}, Source: "text"},
}

// Values returns the provenance values in the order of ProvenanceColumns.
func (p Provenance) Values() []any {
	var mr any // NULL when no merge request approved the file
	if p.MRIID != 0 {
		mr = p.MRIID
	}
	var src any // NULL: the rows of every source
	if p.Source != "" {
		src = p.Source
	}
	return []any{Date(p.SnapshotDate), p.RunID, p.QuerySHA256, p.Commit, p.LoadedAt.UTC(), mr, src}
}

// Date returns t's calendar date (in t's location) as midnight UTC: the
// form of every KindDate value.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Rows is a stream of result rows, read once: Next advances, Values returns
// the current row, Err the error that ended the stream. It has the shape of
// pgx.CopyFromSource. The writer stops at the first error of Values or Err
// and rolls its load back.
//
// Each value has the Go type of its column's Kind, or is nil for NULL:
//
//	KindText, KindJSON       string (JSON as its text)
//	KindInt                  int64
//	KindNumeric              Decimal
//	KindFloat                float64
//	KindBool                 bool
//	KindDate                 time.Time, midnight UTC
//	KindTimestamp            time.Time in UTC holding the wall-clock time
//	KindTimestampTZ          time.Time in UTC
//	KindInterval             Interval
//	arrays                   []any of the element type (elements may be nil)
//
// The slice Values returns may be reused by the next call to Next.
type Rows interface {
	Next() bool
	Values() ([]any, error)
	Err() error
}

// Decimal is an exact numeric value: Int × 10^-Scale.
type Decimal struct {
	Int   *big.Int
	Scale int32
}

// String renders d as plain decimal text ("-12.50").
func (d Decimal) String() string {
	if d.Int == nil {
		return "0"
	}
	if d.Scale <= 0 {
		s := d.Int.String()
		if d.Int.Sign() != 0 && d.Scale < 0 {
			s += strings.Repeat("0", int(-d.Scale))
		}
		return s
	}
	digits := new(big.Int).Abs(d.Int).String()
	sign := ""
	if d.Int.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// Rescale returns d with scale s, rounding half away from zero when s is
// smaller than d's scale.
func (d Decimal) Rescale(s int32) Decimal {
	if d.Int == nil {
		return Decimal{Int: new(big.Int), Scale: s}
	}
	switch {
	case s == d.Scale:
		return d
	case s > d.Scale:
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s-d.Scale)), nil)
		return Decimal{Int: new(big.Int).Mul(d.Int, m), Scale: s}
	}
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-s)), nil)
	q, r := new(big.Int).QuoRem(d.Int, div, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(div) >= 0 {
		q.Add(q, big.NewInt(int64(d.Int.Sign())))
	}
	return Decimal{Int: q, Scale: s}
}

// Float64 returns d as the nearest float64.
func (d Decimal) Float64() float64 {
	if d.Int == nil {
		return 0
	}
	r := new(big.Rat).SetFrac(d.Int, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(d.Scale, 0))), nil))
	if d.Scale < 0 {
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil)))
	}
	f, _ := r.Float64()
	return f
}

// Interval is PostgreSQL's interval: months, days and microseconds, kept
// apart because a month has no fixed number of days.
type Interval struct {
	Months       int32
	Days         int32
	Microseconds int64
}

// String renders i in ISO 8601 ("P1Y2M3DT4H5M6.5S"), the form warehouses
// without an interval type store.
func (i Interval) String() string {
	var b strings.Builder
	b.WriteString("P")
	if y, m := i.Months/12, i.Months%12; y != 0 || m != 0 {
		if y != 0 {
			fmt.Fprintf(&b, "%dY", y)
		}
		if m != 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
	}
	if i.Days != 0 {
		fmt.Fprintf(&b, "%dD", i.Days)
	}
	if us := i.Microseconds; us != 0 {
		b.WriteString("T")
		neg := us < 0
		if neg {
			us = -us
		}
		sign := ""
		if neg {
			sign = "-"
		}
		h, rest := us/3_600_000_000, us%3_600_000_000
		m, rest := rest/60_000_000, rest%60_000_000
		if h != 0 {
			fmt.Fprintf(&b, "%s%dH", sign, h)
		}
		if m != 0 {
			fmt.Fprintf(&b, "%s%dM", sign, m)
		}
		if rest != 0 {
			s := fmt.Sprintf("%d.%06d", rest/1_000_000, rest%1_000_000)
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			fmt.Fprintf(&b, "%s%sS", sign, s)
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}

// IncompatibleError is a load whose columns conflict with the table's:
// a column whose type changed. The table is left as it was.
type IncompatibleError struct {
	Table string
	// Columns describe each conflict: "median_hours: table has text, result has float".
	Columns []string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("table %s: result columns are incompatible with the table (%s); rename the output column or drop the table to start again",
		e.Table, strings.Join(e.Columns, "; "))
}

// Table is a whole table as read back, for tests and for comparing loads.
type Table struct {
	Columns []Column
	// Rows hold values of the types Rows documents.
	Rows [][]any
}

// SliceRows returns Rows over rows held in memory, for tests and small loads.
func SliceRows(rows [][]any) Rows { return &sliceRows{rows: rows, i: -1} }

type sliceRows struct {
	rows [][]any
	i    int
}

func (s *sliceRows) Next() bool             { s.i++; return s.i < len(s.rows) }
func (s *sliceRows) Values() ([]any, error) { return s.rows[s.i], nil }
func (s *sliceRows) Err() error             { return nil }

// FromPostgres returns the Type of a PostgreSQL column from its type name
// (pg_type.typname: "int8", "_text" for text[]) and type modifier (-1 when
// it has none), as a result's field descriptions give them. Types without a
// kind of their own (uuid, inet, enums, …) are text.
func FromPostgres(typname string, typmod int32) Type {
	var t Type
	name := typname
	if elem, ok := strings.CutPrefix(name, "_"); ok {
		t.Array, name = true, elem
	}
	switch name {
	case "int2", "int4", "int8", "oid":
		t.Kind = KindInt
	case "numeric":
		t.Kind = KindNumeric
		if typmod >= 4 { // VARHDRSZ + (precision << 16 | scale)
			m := typmod - 4
			t.Precision, t.Scale = int(m>>16&0xffff), int(m&0xffff)
		}
	case "float4", "float8":
		t.Kind = KindFloat
	case "bool":
		t.Kind = KindBool
	case "date":
		t.Kind = KindDate
	case "timestamp":
		t.Kind = KindTimestamp
	case "timestamptz":
		t.Kind = KindTimestampTZ
	case "interval":
		t.Kind = KindInterval
	case "json", "jsonb":
		t.Kind = KindJSON
	default:
		t.Kind = KindText
	}
	return t
}
