package postgres_test

import (
	"context"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

var _ interface {
	Write(context.Context, warehouse.Load, warehouse.Rows) (int64, error)
} = (*postgres.Writer)(nil)

func TestMain(m *testing.M) {
	warehousetest.RunCrashChild(func(ctx context.Context, dsn string) (warehousetest.Writer, error) {
		return postgres.Open(ctx, dsn)
	})
	pgtest.Main(m)
}

func TestConformance(t *testing.T) {
	warehousetest.Exercise(t.Context(), t, func(t *testing.T) warehousetest.Writer {
		w, err := postgres.Open(t.Context(), pgtest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
}

func TestCrash(t *testing.T) {
	t.Parallel()
	dsn := withSchema(t, pgtest.New(t), "crash")
	warehousetest.ExerciseCrash(t, func(ctx context.Context, dsn string) (warehousetest.Writer, error) {
		return postgres.Open(ctx, dsn)
	}, dsn)
}

func open(t *testing.T, dsn string) *postgres.Writer {
	t.Helper()
	w, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func withSchema(t *testing.T, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func dec(s string) warehouse.Decimal {
	digits, frac, _ := strings.Cut(s, ".")
	i, ok := new(big.Int).SetString(digits+frac, 10)
	if !ok {
		panic(s)
	}
	return warehouse.Decimal{Int: i, Scale: int32(len(frac))}
}

func load(table string, mode warehouse.Mode, day int, cols ...warehouse.Column) warehouse.Load {
	return warehouse.Load{
		Table: table, Mode: mode, Columns: cols,
		Provenance: warehouse.Provenance{
			SnapshotDate: time.Date(2025, 3, day, 0, 0, 0, 0, time.UTC),
			RunID:        int64(day), QuerySHA256: "abc", LoadedAt: time.Date(2025, 3, day, 4, 0, 0, 0, time.UTC),
		},
	}
}

func col(name string, k warehouse.Kind) warehouse.Column {
	return warehouse.Column{Name: name, Type: warehouse.Type{Kind: k}}
}

func TestOpenSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	w := open(t, withSchema(t, dsn, "Metrics Here"))
	if _, err := w.Write(t.Context(), load("t", warehouse.Append, 1, col("n", warehouse.KindInt)),
		warehouse.SliceRows([][]any{{int64(1)}})); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, dsn)
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM "Metrics Here".t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("rows in \"Metrics Here\".t = %d, want 1", n)
	}
	// Opening again with the schema present works.
	open(t, withSchema(t, dsn, "Metrics Here"))
}

func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://alice:s3cretpw@127.0.0.1:1/db?connect_timeout=2",
		"postgres://alice:s3cretpw@127.0.0.1:1/db?sslmode=bogus",
		"postgres://alice:s3cretpw@127.0.0.1:notaport/db",
		"mysql://alice:s3cretpw@127.0.0.1/db",
		"postgres://alice:s3cretpw@127.0.0.1/db\x7f",
	} {
		_, err := postgres.Open(t.Context(), dsn)
		if err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

func TestTypesRoundTrip(t *testing.T) {
	t.Parallel()
	w := open(t, pgtest.New(t))
	cols := []warehouse.Column{
		col("i", warehouse.KindInt),
		{Name: "n", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}},
		col("u", warehouse.KindNumeric),
		{Name: "big", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 60, Scale: 10}},
		col("f", warehouse.KindFloat),
		col("s", warehouse.KindText),
		col("b", warehouse.KindBool),
		col("d", warehouse.KindDate),
		col("ts", warehouse.KindTimestamp),
		col("tz", warehouse.KindTimestampTZ),
		col("iv", warehouse.KindInterval),
		col("j", warehouse.KindJSON),
		{Name: "ai", Type: warehouse.Type{Kind: warehouse.KindInt, Array: true}},
		{Name: "an", Type: warehouse.Type{Kind: warehouse.KindNumeric, Array: true, Precision: 5, Scale: 1}},
		{Name: "as", Type: warehouse.Type{Kind: warehouse.KindText, Array: true}},
		{Name: "aj", Type: warehouse.Type{Kind: warehouse.KindJSON, Array: true}},
		{Name: "at", Type: warehouse.Type{Kind: warehouse.KindTimestampTZ, Array: true}},
	}
	ts := time.Date(2025, 2, 3, 4, 5, 6, 789000, time.UTC)
	row := []any{
		int64(-9007199254740993), dec("-12.50"), dec("123456789012345678901234567890.123456789"),
		dec("12345678901234567890123456789012345678901234567890.0000000001"), 1.5e300, "é \"quoted\"\nline", true,
		time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC), ts, ts,
		warehouse.Interval{Months: 14, Days: -3, Microseconds: 3_600_000_001}, `{"a": [1, "x"]}`,
		[]any{int64(1), nil, int64(3)}, []any{dec("1.5"), nil}, []any{"", nil, "a,b"}, []any{`{"k": 1}`, nil},
		[]any{ts},
	}
	nulls := make([]any, len(cols))
	n, err := w.Write(t.Context(), load("types", warehouse.Replace, 1, cols...), warehouse.SliceRows([][]any{row, nulls}))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Write = %d rows, want 2", n)
	}
	got, err := w.Read(t.Context(), "types")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Columns) != len(cols)+len(warehouse.ProvenanceColumns) {
		t.Fatalf("read %d columns, want %d", len(got.Columns), len(cols)+len(warehouse.ProvenanceColumns))
	}
	for i, c := range cols {
		if g := got.Columns[i]; g.Name != c.Name || g.Type != c.Type {
			t.Errorf("column %d = %s %v, want %s %v", i, g.Name, g.Type, c.Name, c.Type)
		}
	}
	if len(got.Rows) != 2 {
		t.Fatalf("read %d rows, want 2", len(got.Rows))
	}
	for _, r := range got.Rows {
		if r[0] == nil {
			for i := range cols {
				if r[i] != nil {
					t.Errorf("NULL row: column %s = %#v", cols[i].Name, r[i])
				}
			}
			continue
		}
		for i := range cols {
			want, have := row[i], r[i]
			if !equal(want, have) {
				t.Errorf("column %s = %#v, want %#v", cols[i].Name, have, want)
			}
		}
		if r[len(cols)] != time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) {
			t.Errorf("_snapshot_date = %v", r[len(cols)])
		}
	}
}

// equal compares the values of TestTypesRoundTrip: decimals by value and
// scale, JSON as PostgreSQL normalizes it.
func equal(want, got any) bool {
	switch w := want.(type) {
	case warehouse.Decimal:
		g, ok := got.(warehouse.Decimal)
		return ok && w.String() == g.String()
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equal(w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		return ok && (w == g || strings.ReplaceAll(w, " ", "") == strings.ReplaceAll(g, " ", ""))
	case time.Time:
		g, ok := got.(time.Time)
		return ok && w.Equal(g) && g.Location() == time.UTC
	}
	return want == got
}

func count(t *testing.T, w *postgres.Writer, table string) int {
	t.Helper()
	got, err := w.Read(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	return len(got.Rows)
}

type failingRows struct {
	n   int
	err error
}

func (f *failingRows) Next() bool { f.n++; return true }
func (f *failingRows) Values() ([]any, error) {
	if f.n > 1000 {
		return nil, f.err
	}
	return []any{int64(f.n), "x"}, nil
}
func (f *failingRows) Err() error { return nil }

func TestRowsErrorRollsBack(t *testing.T) {
	t.Parallel()
	w := open(t, pgtest.New(t))
	ctx := t.Context()
	c := col("n", warehouse.KindInt)
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		table := "rb_" + string(mode)
		if _, err := w.Write(ctx, load(table, mode, 1, c), warehouse.SliceRows([][]any{{int64(1)}, {int64(2)}})); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("source connection lost")
		_, err := w.Write(ctx, load(table, mode, 1, c, col("extra", warehouse.KindText)), &failingRows{err: boom})
		if !errors.Is(err, boom) {
			t.Errorf("%s: Write = %v, want the rows' error", mode, err)
		}
		if err != nil && !strings.Contains(err.Error(), table) {
			t.Errorf("%s: error %q does not name the table", mode, err)
		}
		got, err := w.Read(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Rows) != 2 || len(got.Columns) != 1+len(warehouse.ProvenanceColumns) {
			t.Errorf("%s: after a failed load: %d rows, %d columns; want the previous 2 rows, %d columns",
				mode, len(got.Rows), len(got.Columns), 1+len(warehouse.ProvenanceColumns))
		}
	}
}

// TestReplaceNeverEmpty reads the table while replace loads run: every
// read sees one complete result.
func TestReplaceNeverEmpty(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	w := open(t, dsn)
	ctx := t.Context()
	c := col("n", warehouse.KindInt)
	const size = 500
	rows := func(v int64) warehouse.Rows {
		rs := make([][]any, size)
		for i := range rs {
			rs[i] = []any{v}
		}
		return warehouse.SliceRows(rs)
	}
	if _, err := w.Write(ctx, load("r", warehouse.Replace, 1, c), rows(0)); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, dsn)
	done := make(chan error)
	go func() {
		var err error
		for i := int64(1); i <= 20 && err == nil; i++ {
			_, err = w.Write(ctx, load("r", warehouse.Replace, 1, c), rows(i))
		}
		done <- err
	}()
	reads := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if reads == 0 {
				t.Fatal("no reads while loading")
			}
			return
		default:
		}
		var n, distinct int
		if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT n) FROM r").Scan(&n, &distinct); err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if n != size || distinct != 1 {
			t.Fatalf("read %d saw %d rows with %d distinct values, want %d and 1", reads, n, distinct, size)
		}
		reads++
	}
}

// TestReplaceKeepsViews: consumers build views on result tables; a replace
// load must neither fail on them nor drop them.
func TestReplaceKeepsViews(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	w := open(t, dsn)
	ctx := t.Context()
	c := col("n", warehouse.KindInt)
	one := func(v int64) warehouse.Rows { return warehouse.SliceRows([][]any{{v}}) }
	if _, err := w.Write(ctx, load("r", warehouse.Replace, 1, c), one(1)); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `CREATE VIEW r_doubled AS SELECT n * 2 AS n2 FROM r`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(ctx, load("r", warehouse.Replace, 2, c), one(21)); err != nil {
		t.Fatalf("replace with a view on the table: %v", err)
	}
	var n2 int64
	if err := conn.QueryRow(ctx, `SELECT n2 FROM r_doubled`).Scan(&n2); err != nil || n2 != 42 {
		t.Errorf("view after the replace: %d, %v; want 42", n2, err)
	}
}

func TestLongTableName(t *testing.T) {
	t.Parallel()
	w := open(t, pgtest.New(t))
	table := strings.Repeat("x", 63)
	for range 2 {
		if _, err := w.Write(t.Context(), load(table, warehouse.Replace, 1, col("n", warehouse.KindInt)),
			warehouse.SliceRows([][]any{{int64(1)}})); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, w, table); got != 1 {
		t.Errorf("%d rows, want 1", got)
	}
}
