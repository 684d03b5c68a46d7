package warehousetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Writer is what the suite drives.
type Writer interface {
	// Write loads rows as load says and returns the number of rows written.
	Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error)
	// Read returns every row of table, in any order, with the table's
	// columns (query columns and provenance columns, in the warehouse's
	// order); values have the Go types warehouse.Rows documents, as the
	// warehouse holds them (an unconstrained numeric comes back from DuckDB
	// as a float64).
	Read(ctx context.Context, table string) (*warehouse.Table, error)
	// Close releases the writer.
	Close() error
}

// Exercise runs the conformance suite against the writers newWriter
// returns. newWriter must return a writer on a fresh, empty warehouse each
// time it is called (subtests call it and run in parallel); Exercise closes
// every writer it gets.
//
// Exercise measures the Go heap to check that a large load streams, so the
// test calling it should not run in parallel with other tests of its
// package.
func Exercise(ctx context.Context, t *testing.T, newWriter func(t *testing.T) Writer) {
	t.Helper()
	open := func(t *testing.T) Writer {
		t.Helper()
		w := newWriter(t)
		t.Cleanup(func() {
			if err := w.Close(); err != nil {
				t.Errorf("close writer: %v", err)
			}
		})
		return w
	}
	s := &suite{ctx: ctx, open: open}

	// Not parallel: it measures the heap, and non-parallel subtests run
	// before the parallel ones start.
	t.Run("LargeLoadStreams", s.largeLoadStreams)

	for _, tc := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Types", s.types},
		{"EmptyResult", s.emptyResult},
		{"Provenance", s.provenance},
		{"AppendIdempotentPerSnapshotDate", s.appendIdempotent},
		{"Replace", s.replace},
		{"AppendPerSource", s.appendPerSource},
		{"ReplacePerSource", s.replacePerSource},
		{"RowsOfNoSource", s.rowsOfNoSource},
		{"ConcurrentSources", s.concurrentSources},
		{"ReplaceFailedKeepsOldContents", s.replaceFailed},
		{"AddedColumn", s.addedColumn},
		{"RemovedColumn", s.removedColumn},
		{"IncompatibleTypeChange", s.incompatible},
		{"RowsErrorMidwayInAppend", s.rowsErrorAppend},
		{"CancelMidLoad", s.cancelMidLoad},
		{"ConcurrentWrites", s.concurrent},
		{"InvalidLoad", s.invalidLoad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

type suite struct {
	ctx  context.Context
	open func(t *testing.T) Writer
}

// Day returns the date (midnight UTC) n days after 2024-05-01.
func Day(n int) time.Time { return time.Date(2024, 5, 1+n, 0, 0, 0, 0, time.UTC) }

// Prov returns the provenance of run runID on snapshot date day, from the
// source "main".
func Prov(day time.Time, runID int64) warehouse.Provenance {
	return ProvFrom(day, runID, "main")
}

// ProvFrom returns the provenance of run runID on snapshot date day, from
// source ("" for a load of no particular source).
func ProvFrom(day time.Time, runID int64, source string) warehouse.Provenance {
	return warehouse.Provenance{
		SnapshotDate: day,
		RunID:        runID,
		QuerySHA256:  fmt.Sprintf("%064x", runID),
		Commit:       fmt.Sprintf("c0ffee%d", runID),
		LoadedAt:     day.Add(4*time.Hour + 123456*time.Microsecond),
		Source:       source,
	}
}

// Col returns a column of kind k named name.
func Col(name string, k warehouse.Kind) warehouse.Column {
	return warehouse.Column{Name: name, Type: warehouse.Type{Kind: k}}
}

// Expect returns the table a warehouse holds after loads of rows with
// load's columns and provenance: columns are load.AllColumns(), each row
// followed by the provenance values. Rows from several loads (Expect(…).Rows
// appended) form the expected contents of a table loaded several times;
// use Widen for loads whose columns differ.
func Expect(load warehouse.Load, rows ...[]any) *warehouse.Table {
	t := &warehouse.Table{Columns: load.AllColumns()}
	pv := load.Provenance.Values()
	for _, r := range rows {
		t.Rows = append(t.Rows, append(slices.Clone(r), pv...))
	}
	return t
}

// Widen returns the union of tables: columns in the order first seen, rows
// of each table with NULL in the columns it lacks.
func Widen(tables ...*warehouse.Table) *warehouse.Table {
	out := &warehouse.Table{}
	idx := map[string]int{}
	for _, t := range tables {
		for _, c := range t.Columns {
			if _, ok := idx[c.Name]; !ok {
				idx[c.Name] = len(out.Columns)
				out.Columns = append(out.Columns, c)
			}
		}
	}
	for _, t := range tables {
		for _, r := range t.Rows {
			row := make([]any, len(out.Columns))
			for i, c := range t.Columns {
				row[idx[c.Name]] = r[i]
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

func (s *suite) write(t *testing.T, w Writer, load warehouse.Load, rows ...[]any) {
	t.Helper()
	n, err := w.Write(s.ctx, load, warehouse.SliceRows(rows))
	if err != nil {
		t.Fatalf("write %s (%s, %s): %v", load.Table, load.Mode, load.Provenance.SnapshotDate.Format(time.DateOnly), err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("write %s: wrote %d rows, want %d", load.Table, n, len(rows))
	}
}

func (s *suite) read(t *testing.T, w Writer, table string) *warehouse.Table {
	t.Helper()
	got, err := w.Read(s.ctx, table)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return got
}

func (s *suite) expectTable(t *testing.T, w Writer, table string, want *warehouse.Table) *warehouse.Table {
	t.Helper()
	got := s.read(t, w, table)
	if d := Diff(want, got); d != "" {
		t.Errorf("table %s:\n%s", table, d)
	}
	return got
}

func dec(s string) warehouse.Decimal {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	i, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		panic("bad decimal " + s)
	}
	if neg {
		i.Neg(i)
	}
	return warehouse.Decimal{Int: i, Scale: int32(len(frac))}
}

type typeCase struct {
	col  warehouse.Column
	vals []any
	// goType checks a read-back value's Go type; nil accepts any.
	goType func(any) bool
}

func isType[T any](v any) bool { _, ok := v.(T); return ok }

func numericCol(name string, p, s int) warehouse.Column {
	return warehouse.Column{Name: name, Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: p, Scale: s}}
}

func arrayCol(name string, k warehouse.Kind) warehouse.Column {
	return warehouse.Column{Name: name, Type: warehouse.Type{Kind: k, Array: true}}
}

func typeCases() []typeCase {
	ist := time.FixedZone("IST", 5*3600+1800)
	return []typeCase{
		{Col("i", warehouse.KindInt), []any{int64(0), int64(42), int64(-7), int64(math.MaxInt64), int64(math.MinInt64)}, isType[int64]},
		{numericCol("money", 12, 2), []any{dec("1234567890.12"), dec("-0.01"), dec("0.00"), dec("42.50"), dec("-9999999999.99")}, isType[warehouse.Decimal]},
		{numericCol("wide", 38, 6), []any{dec("12345678901234567890123456789012.123456"), dec("-0.000001"), dec("1.500000")}, isType[warehouse.Decimal]},
		{Col("avg", warehouse.KindNumeric), []any{dec("2.3333333333333333"), dec("-123456.789"), dec("0"), dec("1")}, func(v any) bool { return isType[warehouse.Decimal](v) || isType[float64](v) }},
		{Col("f", warehouse.KindFloat), []any{3.141592653589793, -1.5e300, 1e-300, -0.1, 1.7976931348623157e308, 0.0}, isType[float64]},
		{Col("s", warehouse.KindText), []any{
			"", "plain", `O'Reilly "quoted"`, "a,b,c", "line1\nline2\r\nline3", `back\slash \N \\ \t`, "tab\there",
			"ünïcödé 日本語 🚀", "NULL", "  padded  ", "{braces},[brackets]", strings.Repeat("long ", 2000),
		}, isType[string]},
		{Col("b", warehouse.KindBool), []any{true, false}, isType[bool]},
		{Col("d", warehouse.KindDate), []any{Day(0), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1900, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, isType[time.Time]},
		{Col("ts", warehouse.KindTimestamp), []any{time.Date(2024, 5, 1, 13, 14, 15, 123456000, time.UTC), time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)}, isType[time.Time]},
		// One instant given in another zone: only the instant counts.
		{Col("tstz", warehouse.KindTimestampTZ), []any{time.Date(2024, 5, 1, 13, 14, 15, 654321000, time.UTC), time.Date(2024, 5, 1, 18, 44, 15, 1000, ist), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, isType[time.Time]},
		{Col("iv", warehouse.KindInterval), []any{
			warehouse.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 5*60e6 + 6.5e6},
			warehouse.Interval{Months: -1, Days: -2, Microseconds: -3},
			warehouse.Interval{},
			warehouse.Interval{Days: 45},                  // not folded into months
			warehouse.Interval{Microseconds: 25 * 3600e6}, // not folded into days
		}, isType[warehouse.Interval]},
		{Col("j", warehouse.KindJSON), []any{`{"a": [1, 2.5, null], "b": "x\"y"}`, `[]`, `"str"`, `123`}, isType[string]},
		{arrayCol("ia", warehouse.KindInt), []any{[]any{int64(1), nil, int64(3)}, []any{}, []any{nil}, []any{int64(math.MaxInt64)}}, isType[[]any]},
		{arrayCol("sa", warehouse.KindText), []any{[]any{"a", nil, "b,c", `"q"`, "{x}", "", "NULL", "new\nline", `back\slash`}, []any{}, []any{"ünï"}}, isType[[]any]},
	}
}

func (s *suite) types(t *testing.T) {
	w := s.open(t)
	cases := typeCases()
	load := warehouse.Load{Table: "types", Mode: warehouse.Append, Provenance: Prov(Day(0), 1)}
	n := 0
	for _, c := range cases {
		load.Columns = append(load.Columns, c.col)
		n = max(n, len(c.vals))
	}
	var rows [][]any
	for r := range n {
		row := make([]any, len(cases))
		for i, c := range cases {
			row[i] = c.vals[r%len(c.vals)]
		}
		rows = append(rows, row)
	}
	rows = append(rows, make([]any, len(cases))) // NULL in every column
	s.write(t, w, load, rows...)
	got := s.expectTable(t, w, "types", Expect(load, rows...))

	// Exact kinds come back in their documented Go types.
	for _, c := range cases {
		j := slices.IndexFunc(got.Columns, func(gc warehouse.Column) bool { return gc.Name == c.col.Name })
		if j < 0 {
			continue // reported by the diff
		}
		for _, row := range got.Rows {
			if v := row[j]; v != nil && !c.goType(v) {
				t.Errorf("column %s (%v): read back a %T (%s)", c.col.Name, c.col.Type, v, formatValue(v))
				break
			}
		}
	}
}

func (s *suite) emptyResult(t *testing.T) {
	w := s.open(t)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "empty_" + string(mode)
		load := warehouse.Load{Table: table, Mode: mode, Columns: []warehouse.Column{Col("k", warehouse.KindText), Col("n", warehouse.KindInt)}, Provenance: Prov(Day(0), 1)}
		s.write(t, w, load)
		got := s.expectTable(t, w, table, Expect(load))
		if len(got.Columns) != 2+len(warehouse.ProvenanceColumns) {
			t.Errorf("%s: empty load created columns %v, want k, n and the provenance columns", table, columnNames(got))
		}
	}
	// An empty replace empties a table.
	load := warehouse.Load{Table: "empty_again", Mode: warehouse.Replace, Columns: []warehouse.Column{Col("k", warehouse.KindText)}, Provenance: Prov(Day(0), 1)}
	s.write(t, w, load, []any{"x"}, []any{"y"})
	load.Provenance = Prov(Day(1), 2)
	s.write(t, w, load)
	s.expectTable(t, w, "empty_again", Expect(load))
}

func (s *suite) provenance(t *testing.T) {
	w := s.open(t)
	p := warehouse.Provenance{
		SnapshotDate: time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC),
		RunID:        9_000_000_001,
		QuerySHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Commit:       "", // approval off
		LoadedAt:     time.Date(2024, 7, 1, 4, 0, 1, 250000000, time.UTC),
	}
	load := warehouse.Load{Table: "prov", Mode: warehouse.Append, Columns: []warehouse.Column{Col("k", warehouse.KindText)}, Provenance: p}
	s.write(t, w, load, []any{"a"}, []any{"b"})
	got := s.expectTable(t, w, "prov", Expect(load, []any{"a"}, []any{"b"}))
	names := columnNames(got)
	for _, pc := range warehouse.ProvenanceColumns {
		if !slices.Contains(names, pc.Name) {
			t.Errorf("provenance column %s missing (columns: %v)", pc.Name, names)
		}
	}
	// The snapshot date is a date: a time of day in the provenance does not
	// leak into the table or split the slice.
	load.Provenance = p
	load.Provenance.SnapshotDate = p.SnapshotDate.Add(23*time.Hour + 30*time.Minute)
	load.Provenance.RunID = 9_000_000_002
	load.Provenance.MRIID = 4711 // approved through a merge request: not NULL
	s.write(t, w, load, []any{"c"})
	want := Expect(load, []any{"c"})
	s.expectTable(t, w, "prov", want)
}

func kv() []warehouse.Column {
	return []warehouse.Column{Col("k", warehouse.KindText), Col("v", warehouse.KindInt)}
}

func (s *suite) appendIdempotent(t *testing.T) {
	w := s.open(t)
	load := func(day, run int) warehouse.Load {
		return warehouse.Load{Table: "series", Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(day), int64(run))}
	}
	s.write(t, w, load(0, 1), []any{"a", int64(1)}, []any{"b", int64(2)})
	s.expectTable(t, w, "series", Expect(load(0, 1), []any{"a", int64(1)}, []any{"b", int64(2)}))

	// Rerun of the same date: one copy, the new one.
	s.write(t, w, load(0, 2), []any{"c", int64(3)})
	d0 := Expect(load(0, 2), []any{"c", int64(3)})
	s.expectTable(t, w, "series", d0)

	// The next date: both slices.
	s.write(t, w, load(1, 3), []any{"d", int64(4)}, []any{"e", int64(5)})
	d1 := Expect(load(1, 3), []any{"d", int64(4)}, []any{"e", int64(5)})
	s.expectTable(t, w, "series", Widen(d0, d1))

	// Identical rerun of the first date, twice: still one copy.
	s.write(t, w, load(0, 2), []any{"c", int64(3)})
	s.write(t, w, load(0, 2), []any{"c", int64(3)})
	s.expectTable(t, w, "series", Widen(d0, d1))

	// An empty result for a date deletes that date's slice only.
	s.write(t, w, load(1, 4))
	s.expectTable(t, w, "series", d0)
}

func (s *suite) replace(t *testing.T) {
	w := s.open(t)
	load := func(run int) warehouse.Load {
		return warehouse.Load{Table: "latest", Mode: warehouse.Replace, Columns: kv(), Provenance: Prov(Day(run), int64(run))}
	}
	s.write(t, w, load(1), []any{"a", int64(1)}, []any{"b", int64(2)})
	s.expectTable(t, w, "latest", Expect(load(1), []any{"a", int64(1)}, []any{"b", int64(2)}))
	s.write(t, w, load(2), []any{"c", int64(3)})
	s.expectTable(t, w, "latest", Expect(load(2), []any{"c", int64(3)}))
	// Same snapshot date again: still only the latest.
	s.write(t, w, load(2), []any{"c", int64(3)}, []any{"d", int64(4)})
	s.expectTable(t, w, "latest", Expect(load(2), []any{"c", int64(3)}, []any{"d", int64(4)}))
}

// appendPerSource: two sources loading the same table and date fill it
// side by side; a rerun of one source replaces its rows only, and is
// idempotent.
func (s *suite) appendPerSource(t *testing.T) {
	w := s.open(t)
	load := func(day, run int, source string) warehouse.Load {
		return warehouse.Load{Table: "series", Mode: warehouse.Append, Columns: kv(), Provenance: ProvFrom(Day(day), int64(run), source)}
	}
	s.write(t, w, load(0, 1, "eu"), []any{"a", int64(1)}, []any{"b", int64(2)})
	s.write(t, w, load(0, 1, "us"), []any{"a", int64(10)})
	eu := Expect(load(0, 1, "eu"), []any{"a", int64(1)}, []any{"b", int64(2)})
	us := Expect(load(0, 1, "us"), []any{"a", int64(10)})
	s.expectTable(t, w, "series", Widen(eu, us))

	// A rerun of eu for the date, twice: one copy of eu's new rows, us's stay.
	for range 2 {
		s.write(t, w, load(0, 2, "eu"), []any{"c", int64(3)})
	}
	eu = Expect(load(0, 2, "eu"), []any{"c", int64(3)})
	s.expectTable(t, w, "series", Widen(eu, us))

	// The next date of us keeps the first date of both.
	s.write(t, w, load(1, 3, "us"), []any{"d", int64(4)})
	us1 := Expect(load(1, 3, "us"), []any{"d", int64(4)})
	s.expectTable(t, w, "series", Widen(eu, us, us1))

	// An empty result of us for the first date deletes us's slice of it only.
	s.write(t, w, load(0, 4, "us"))
	s.expectTable(t, w, "series", Widen(eu, us1))
}

// replacePerSource: a replace keeps the latest result of each source; it
// never touches another source's rows, also when it fails.
func (s *suite) replacePerSource(t *testing.T) {
	w := s.open(t)
	load := func(run int, source string) warehouse.Load {
		return warehouse.Load{Table: "latest", Mode: warehouse.Replace, Columns: kv(), Provenance: ProvFrom(Day(run), int64(run), source)}
	}
	s.write(t, w, load(1, "eu"), []any{"a", int64(1)}, []any{"b", int64(2)})
	s.write(t, w, load(1, "us"), []any{"a", int64(10)})
	us := Expect(load(1, "us"), []any{"a", int64(10)})
	s.expectTable(t, w, "latest", Widen(Expect(load(1, "eu"), []any{"a", int64(1)}, []any{"b", int64(2)}), us))

	s.write(t, w, load(2, "eu"), []any{"c", int64(3)})
	eu := Expect(load(2, "eu"), []any{"c", int64(3)})
	s.expectTable(t, w, "latest", Widen(eu, us))

	// A failing replace of us leaves both sources as they were.
	if _, err := w.Write(s.ctx, load(3, "us"), FailingRows(kv(), 10, true)); !errors.Is(err, errBoom) {
		t.Errorf("replace of us failing midway: error %v, want the source's error", err)
	}
	s.expectTable(t, w, "latest", Widen(eu, us))

	// An empty replace of eu empties eu's part only.
	s.write(t, w, load(4, "eu"))
	s.expectTable(t, w, "latest", us)
}

// rowsOfNoSource: rows whose _source is NULL (loaded before the column
// existed, or by a load without a source) belong to every source: the
// first source to load that date (append) or table (replace) replaces
// them, and no source's rows are duplicated by them. A load without a
// source replaces every source's rows.
func (s *suite) rowsOfNoSource(t *testing.T) {
	w := s.open(t)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "nosource_" + string(mode)
		load := func(day, run int, source string) warehouse.Load {
			return warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: ProvFrom(Day(day), int64(run), source)}
		}
		// Day 0 and, for append, day 1 loaded without a source.
		s.write(t, w, load(0, 1, ""), []any{"old", int64(1)})
		old0 := Expect(load(0, 1, ""), []any{"old", int64(1)})
		var old1 *warehouse.Table
		if mode == warehouse.Append {
			s.write(t, w, load(1, 2, ""), []any{"old1", int64(2)})
			old1 = Expect(load(1, 2, ""), []any{"old1", int64(2)})
		} else {
			old1 = &warehouse.Table{Columns: old0.Columns}
		}
		got := s.expectTable(t, w, table, Widen(old0, old1))
		src := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "_source" })
		for _, r := range got.Rows {
			if src < 0 || r[src] != nil {
				t.Errorf("%s: a load without a source stored _source %v, want NULL", table, r[max(src, 0)])
			}
		}

		// Two sources load day 0: the old row is gone, each source's rows
		// are there once; day 1 (append) keeps its old row.
		s.write(t, w, load(0, 3, "eu"), []any{"a", int64(3)})
		s.write(t, w, load(0, 3, "us"), []any{"b", int64(4)})
		eu := Expect(load(0, 3, "eu"), []any{"a", int64(3)})
		us := Expect(load(0, 3, "us"), []any{"b", int64(4)})
		s.expectTable(t, w, table, Widen(eu, us, old1))

		// A load without a source replaces every source's rows (of its date).
		s.write(t, w, load(0, 4, ""), []any{"all", int64(5)})
		s.expectTable(t, w, table, Widen(Expect(load(0, 4, ""), []any{"all", int64(5)}), old1))
	}
}

// concurrentSources: loads of two sources into one table at the same time
// both land (a writer must not copy one source's rows while another
// replaces its own).
func (s *suite) concurrentSources(t *testing.T) {
	w := s.open(t)
	const rowsPer = 500
	sources := []string{"eu", "us", "apac"}
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "conc_" + string(mode)
		// An earlier load of each source, replaced below.
		for _, src := range sources {
			s.write(t, w, warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: ProvFrom(Day(0), 1, src)}, []any{"stale", int64(0)})
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, len(sources))
		for _, src := range sources {
			wg.Go(func() {
				<-start
				l := warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: ProvFrom(Day(0), 2, src)}
				if _, err := w.Write(s.ctx, l, GenRows(kv(), rowsPer)); err != nil {
					errs <- fmt.Errorf("%s %s: %w", table, src, err)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent write: %v", err)
		}
		var parts []*warehouse.Table
		for _, src := range sources {
			var rows [][]any
			for i := range rowsPer {
				rows = append(rows, []any{GenValue(kv()[0].Type, i), GenValue(kv()[1].Type, i)})
			}
			parts = append(parts, Expect(warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: ProvFrom(Day(0), 2, src)}, rows...))
		}
		s.expectTable(t, w, table, Widen(parts...))
	}
}

// errBoom is the error the suite's failing Rows return.
var errBoom = errors.New("warehousetest: source failed midway")

// FailingRows yields n generated rows of cols (see GenRows) and then fails:
// with Err when viaErr, else with the error of the next Values call.
func FailingRows(cols []warehouse.Column, n int, viaErr bool) warehouse.Rows {
	return &failingRows{Rows: GenRows(cols, n+1), n: n, viaErr: viaErr}
}

type failingRows struct {
	warehouse.Rows
	n, i   int
	viaErr bool
}

func (f *failingRows) Next() bool {
	f.i++
	if f.viaErr && f.i > f.n {
		return false
	}
	return f.Rows.Next()
}

func (f *failingRows) Values() ([]any, error) {
	if f.i > f.n {
		return nil, errBoom
	}
	return f.Rows.Values()
}

func (f *failingRows) Err() error {
	if f.viaErr && f.i > f.n {
		return errBoom
	}
	return f.Rows.Err()
}

// GenRows returns n deterministic rows for cols, generated as they are read
// (nothing is held in memory): row i has, per column kind, the text
// "row-<i>", the int i, the float i/4, true for even i, and so on.
func GenRows(cols []warehouse.Column, n int) warehouse.Rows {
	return &genRows{cols: cols, n: n, i: -1, vals: make([]any, len(cols))}
}

type genRows struct {
	cols []warehouse.Column
	n, i int
	vals []any
}

func (g *genRows) Next() bool { g.i++; return g.i < g.n }
func (g *genRows) Err() error { return nil }
func (g *genRows) Values() ([]any, error) {
	for c, col := range g.cols {
		g.vals[c] = GenValue(col.Type, g.i)
	}
	return g.vals, nil
}

// GenValue is the value GenRows gives a column of type typ in row i.
func GenValue(typ warehouse.Type, i int) any {
	if typ.Array {
		return []any{GenValue(warehouse.Type{Kind: typ.Kind, Precision: typ.Precision, Scale: typ.Scale}, i), nil}
	}
	switch typ.Kind {
	case warehouse.KindInt:
		return int64(i)
	case warehouse.KindNumeric:
		return warehouse.Decimal{Int: big.NewInt(int64(i)), Scale: 0}.Rescale(int32(typ.Scale))
	case warehouse.KindFloat:
		return float64(i) / 4
	case warehouse.KindBool:
		return i%2 == 0
	case warehouse.KindDate:
		return Day(i % 1000)
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		return Day(0).Add(time.Duration(i) * time.Second)
	case warehouse.KindInterval:
		return warehouse.Interval{Days: int32(i % 30), Microseconds: int64(i)}
	case warehouse.KindJSON:
		return fmt.Sprintf(`{"i": %d}`, i)
	default:
		return fmt.Sprintf("row-%d", i)
	}
}

func (s *suite) replaceFailed(t *testing.T) {
	w := s.open(t)
	load := warehouse.Load{Table: "latest", Mode: warehouse.Replace, Columns: kv(), Provenance: Prov(Day(1), 1)}
	s.write(t, w, load, []any{"a", int64(1)}, []any{"b", int64(2)})
	want := Expect(load, []any{"a", int64(1)}, []any{"b", int64(2)})
	for _, viaErr := range []bool{true, false} {
		for _, n := range []int{0, 1, 5000} {
			failing := load
			failing.Provenance = Prov(Day(2), 2)
			_, err := w.Write(s.ctx, failing, FailingRows(kv(), n, viaErr))
			if !errors.Is(err, errBoom) {
				t.Errorf("replace failing after %d rows (via Err: %t): error %v, want one wrapping the source's error", n, viaErr, err)
			}
			s.expectTable(t, w, "latest", want)
		}
	}
	// A failed replace into a table that does not exist yet leaves nothing
	// readable, or an empty table: never part of a result.
	fresh := warehouse.Load{Table: "never", Mode: warehouse.Replace, Columns: kv(), Provenance: Prov(Day(1), 1)}
	if _, err := w.Write(s.ctx, fresh, FailingRows(kv(), 10, true)); !errors.Is(err, errBoom) {
		t.Errorf("first replace failing midway: error %v, want the source's error", err)
	}
	if got, err := w.Read(s.ctx, "never"); err == nil && len(got.Rows) > 0 {
		t.Errorf("failed first replace left %d rows in its table", len(got.Rows))
	}
}

func (s *suite) addedColumn(t *testing.T) {
	w := s.open(t)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "added_" + string(mode)
		l1 := warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: Prov(Day(0), 1)}
		s.write(t, w, l1, []any{"a", int64(1)})
		l2 := warehouse.Load{Table: table, Mode: mode, Columns: append(kv(), Col("extra", warehouse.KindFloat), numericCol("m", 10, 3)), Provenance: Prov(Day(1), 2)}
		s.write(t, w, l2, []any{"b", int64(2), 2.5, dec("1.250")})
		want := Expect(l2, []any{"b", int64(2), 2.5, dec("1.250")})
		if mode == warehouse.Append {
			want = Widen(Expect(l1, []any{"a", int64(1)}), want) // old rows read NULL
		}
		s.expectTable(t, w, table, want)
		// The added columns are real columns: a later load keeps filling them.
		l3 := l2
		l3.Provenance = Prov(Day(2), 3)
		s.write(t, w, l3, []any{"c", int64(3), -1.0, dec("-0.001")})
		w3 := Expect(l3, []any{"c", int64(3), -1.0, dec("-0.001")})
		if mode == warehouse.Append {
			w3 = Widen(want, w3)
		}
		s.expectTable(t, w, table, w3)
	}
}

func (s *suite) removedColumn(t *testing.T) {
	w := s.open(t)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "removed_" + string(mode)
		l1 := warehouse.Load{Table: table, Mode: mode, Columns: append(kv(), Col("gone", warehouse.KindText)), Provenance: Prov(Day(0), 1)}
		s.write(t, w, l1, []any{"a", int64(1), "x"})
		// Without "gone", and with the remaining columns in another order.
		l2 := warehouse.Load{Table: table, Mode: mode, Columns: []warehouse.Column{Col("v", warehouse.KindInt), Col("k", warehouse.KindText)}, Provenance: Prov(Day(1), 2)}
		s.write(t, w, l2, []any{int64(2), "b"})
		want := Expect(l2, []any{int64(2), "b"})
		if mode == warehouse.Append {
			want = Widen(Expect(l1, []any{"a", int64(1), "x"}), want)
		} else {
			want = Widen(&warehouse.Table{Columns: l1.AllColumns()}, want) // the column stays
		}
		s.expectTable(t, w, table, want)
	}
}

func (s *suite) incompatible(t *testing.T) {
	w := s.open(t)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "incompatible_" + string(mode)
		l1 := warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: Prov(Day(0), 1)}
		s.write(t, w, l1, []any{"a", int64(1)})
		want := Expect(l1, []any{"a", int64(1)})

		// v changes from int to text; "added" would be added if the load
		// were compatible.
		l2 := warehouse.Load{Table: table, Mode: mode, Columns: []warehouse.Column{Col("k", warehouse.KindText), Col("v", warehouse.KindText), Col("added", warehouse.KindBool)}, Provenance: Prov(Day(1), 2)}
		_, err := w.Write(s.ctx, l2, warehouse.SliceRows([][]any{{"b", "two", true}}))
		var ie *warehouse.IncompatibleError
		switch {
		case !errors.As(err, &ie):
			t.Errorf("%s: type change int → text: error %v, want a *warehouse.IncompatibleError", table, err)
		case ie.Table != table:
			t.Errorf("%s: IncompatibleError.Table = %q", table, ie.Table)
		case len(ie.Columns) != 1 || !strings.HasPrefix(ie.Columns[0], "v"):
			t.Errorf("%s: IncompatibleError.Columns = %q, want one entry, about v", table, ie.Columns)
		}
		got := s.expectTable(t, w, table, want)
		if slices.Contains(columnNames(got), "added") {
			t.Errorf("%s: an incompatible load added a column", table)
		}
	}
}

func (s *suite) rowsErrorAppend(t *testing.T) {
	w := s.open(t)
	l0 := warehouse.Load{Table: "series", Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(0), 1)}
	l1 := warehouse.Load{Table: "series", Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(1), 2)}
	s.write(t, w, l0, []any{"a", int64(1)}, []any{"b", int64(2)})
	s.write(t, w, l1, []any{"c", int64(3)})
	want := Widen(Expect(l0, []any{"a", int64(1)}, []any{"b", int64(2)}), Expect(l1, []any{"c", int64(3)}))
	for _, viaErr := range []bool{true, false} {
		for _, n := range []int{0, 1, 5000} {
			again := l0
			again.Provenance = Prov(Day(0), 3)
			_, err := w.Write(s.ctx, again, FailingRows(kv(), n, viaErr))
			if !errors.Is(err, errBoom) {
				t.Errorf("append failing after %d rows (via Err: %t): error %v, want one wrapping the source's error", n, viaErr, err)
			}
			s.expectTable(t, w, "series", want)
		}
	}
}

// cancelRows yields rows and cancels after n of them.
type cancelRows struct {
	warehouse.Rows
	n, i   int
	cancel func()
}

func (c *cancelRows) Next() bool {
	c.i++
	if c.i == c.n {
		c.cancel()
	}
	return c.Rows.Next()
}

func (s *suite) cancelMidLoad(t *testing.T) {
	w := s.open(t)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "cancel_" + string(mode)
		l0 := warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: Prov(Day(0), 1)}
		s.write(t, w, l0, []any{"a", int64(1)}, []any{"b", int64(2)})
		want := Expect(l0, []any{"a", int64(1)}, []any{"b", int64(2)})

		ctx, cancel := context.WithCancel(s.ctx)
		again := l0
		again.Provenance = Prov(Day(0), 2)
		_, err := w.Write(ctx, again, &cancelRows{Rows: GenRows(kv(), 20_000), n: 3000, cancel: cancel})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: load canceled midway: error %v, want one wrapping context.Canceled", table, err)
		}
		s.expectTable(t, w, table, want)

		// The writer still works after a cancellation.
		again.Provenance = Prov(Day(0), 3)
		s.write(t, w, again, []any{"c", int64(3)})
		s.expectTable(t, w, table, Expect(again, []any{"c", int64(3)}))
	}
}

// heapRows wraps GenRows and records the peak live heap every 20000 rows.
type heapRows struct {
	warehouse.Rows
	i    int
	peak uint64
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (h *heapRows) Next() bool {
	h.i++
	if h.i%20_000 == 0 {
		h.peak = max(h.peak, liveHeap())
	}
	return h.Rows.Next()
}

// largeLoadStreams loads 200k rows of ~400 bytes (about 80 MB of text,
// every string allocated fresh as it is read) and checks that the live Go
// heap never grows by more than a fraction of that while loading: a writer
// that buffered the result in Go memory would hold it all.
func (s *suite) largeLoadStreams(t *testing.T) {
	const n = 200_000
	const pad = 400
	w := s.open(t)
	cols := []warehouse.Column{Col("id", warehouse.KindInt), Col("payload", warehouse.KindText), Col("x", warehouse.KindFloat)}
	load := warehouse.Load{Table: "large", Mode: warehouse.Append, Columns: cols, Provenance: Prov(Day(0), 1)}
	rows := &heapRows{Rows: &paddedRows{genRows: GenRows(cols, n).(*genRows), pad: pad}}
	base := liveHeap()
	written, err := w.Write(s.ctx, load, rows)
	if err != nil {
		t.Fatalf("write %d rows: %v", n, err)
	}
	if written != n {
		t.Errorf("wrote %d rows, want %d", written, n)
	}
	growth := int64(rows.peak) - int64(base)
	payload := int64(n * pad)
	t.Logf("live Go heap grew by at most %.1f MB while loading %.0f MB of rows", float64(growth)/1e6, float64(payload)/1e6)
	if growth > payload*3/10 {
		t.Errorf("live Go heap grew by %.1f MB while loading %.0f MB: the writer buffers the result instead of streaming it",
			float64(growth)/1e6, float64(payload)/1e6)
	}

	got := s.read(t, w, "large")
	if len(got.Rows) != n {
		t.Fatalf("read %d rows, want %d", len(got.Rows), n)
	}
	idc := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "id" })
	pc := slices.IndexFunc(got.Columns, func(c warehouse.Column) bool { return c.Name == "payload" })
	if idc < 0 || pc < 0 {
		t.Fatalf("columns %v lack id or payload", columnNames(got))
	}
	seen := make([]bool, n)
	for _, r := range got.Rows {
		id, ok := r[idc].(int64)
		if !ok || id < 0 || id >= n || seen[id] {
			t.Fatalf("unexpected or repeated id %v", formatValue(r[idc]))
		}
		seen[id] = true
		if id%9973 == 0 {
			if p, _ := r[pc].(string); p != paddedText(int(id), pad) {
				t.Errorf("row %d: payload %.40q…, want %.40q…", id, p, paddedText(int(id), pad))
			}
		}
	}
}

type paddedRows struct {
	*genRows
	pad int
}

func (p *paddedRows) Values() ([]any, error) {
	v, err := p.genRows.Values()
	v[1] = paddedText(p.i, p.pad)
	return v, err
}

func paddedText(i, n int) string {
	s := fmt.Sprintf("row-%d:", i)
	return s + strings.Repeat(string(rune('a'+i%26)), n-len(s))
}

func (s *suite) concurrent(t *testing.T) {
	w := s.open(t)
	const rowsPer = 1000
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, table := range []string{"conc_a", "conc_b"} {
		for day := range 2 {
			wg.Go(func() {
				<-start
				l := warehouse.Load{Table: table, Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(day), int64(day))}
				if _, err := w.Write(s.ctx, l, GenRows(kv(), rowsPer)); err != nil {
					errs <- fmt.Errorf("%s day %d: %w", table, day, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	for _, table := range []string{"conc_a", "conc_b"} {
		var parts []*warehouse.Table
		for day := range 2 {
			l := warehouse.Load{Table: table, Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(day), int64(day))}
			var rows [][]any
			for i := range rowsPer {
				rows = append(rows, []any{GenValue(kv()[0].Type, i), GenValue(kv()[1].Type, i)})
			}
			parts = append(parts, Expect(l, rows...))
		}
		s.expectTable(t, w, table, Widen(parts...))
	}
}

func (s *suite) invalidLoad(t *testing.T) {
	w := s.open(t)
	good := warehouse.Load{Table: "ok", Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(0), 1)}
	for name, mutate := range map[string]func(*warehouse.Load){
		"table name not an identifier": func(l *warehouse.Load) { l.Table = `bad"; DROP TABLE x; --` },
		"unknown mode":                 func(l *warehouse.Load) { l.Mode = "upsert" },
		"no columns":                   func(l *warehouse.Load) { l.Columns = nil },
		"provenance column name":       func(l *warehouse.Load) { l.Columns = append(kv(), Col("_run_id", warehouse.KindInt)) },
		"no snapshot date":             func(l *warehouse.Load) { l.Provenance.SnapshotDate = time.Time{} },
	} {
		l := good
		mutate(&l)
		if _, err := w.Write(s.ctx, l, warehouse.SliceRows(nil)); err == nil {
			t.Errorf("%s: Write accepted the load", name)
		}
	}
	// A row with the wrong number of values fails the load.
	if _, err := w.Write(s.ctx, good, warehouse.SliceRows([][]any{{"a", int64(1), "extra"}})); err == nil {
		t.Errorf("a row with 3 values for 2 columns was accepted")
	}
}
