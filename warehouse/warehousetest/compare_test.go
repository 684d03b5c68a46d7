package warehousetest

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

func TestDiff(t *testing.T) {
	cols := []warehouse.Column{Col("k", warehouse.KindText), Col("n", warehouse.KindNumeric), Col("at", warehouse.KindTimestampTZ), Col("j", warehouse.KindJSON), Col("a", warehouse.KindInt)}
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	want := &warehouse.Table{Columns: cols, Rows: [][]any{
		{"a", dec("1.50"), at, `{"x": 1, "y": [true]}`, []any{int64(1), nil}},
		{"b", dec("2.3333333333333333"), at, nil, nil},
		{"b", dec("2.3333333333333333"), at, nil, nil}, // duplicates count
	}}
	// Same rows: other order, other column order, 1.5 for 1.50, a float
	// for the long numeric, the instant in another zone, JSON respaced.
	got := &warehouse.Table{
		Columns: []warehouse.Column{cols[4], cols[3], cols[2], cols[1], cols[0]},
		Rows: [][]any{
			{nil, nil, at.In(time.FixedZone("X", 3600)), 2.3333333333333335, "b"},
			{[]any{int64(1), nil}, `{"y":[true],"x":1}`, at, warehouse.Decimal{Int: big.NewInt(15), Scale: 1}, "a"},
			{nil, nil, at, 2.33333333333333, "b"},
		},
	}
	if d := Diff(want, got); d != "" {
		t.Errorf("equal tables differ:\n%s", d)
	}

	for name, tc := range map[string]struct {
		mutate func(r [][]any)
		in     string
	}{
		"text":          {func(r [][]any) { r[1][4] = "a " }, `unexpected ("a "`},
		"decimal":       {func(r [][]any) { r[1][3] = dec("1.51") }, "Decimal(1.51)"},
		"float":         {func(r [][]any) { r[0][3] = 2.34 }, "float64(2.34)"},
		"instant":       {func(r [][]any) { r[1][2] = at.Add(time.Microsecond) }, "missing"},
		"json":          {func(r [][]any) { r[1][1] = `{"x": 2, "y": [true]}` }, "missing"},
		"array element": {func(r [][]any) { r[1][0] = []any{int64(1), int64(0)} }, "[int64(1), int64(0)]"},
		"null":          {func(r [][]any) { r[1][0] = nil }, "missing"},
		"int type":      {func(r [][]any) { r[1][0] = []any{"1", nil} }, "missing"},
		"duplicate":     {func(r [][]any) { r[2] = r[1] }, "1 wanted rows not found, 1 unexpected"},
	} {
		g := &warehouse.Table{Columns: got.Columns}
		for _, r := range got.Rows {
			g.Rows = append(g.Rows, append([]any(nil), r...))
		}
		tc.mutate(g.Rows)
		if d := Diff(want, g); !strings.Contains(d, tc.in) {
			t.Errorf("%s: Diff = %q, want it to mention %q", name, d, tc.in)
		}
	}

	if d := Diff(want, &warehouse.Table{Columns: cols[:4]}); !strings.Contains(d, "columns missing from got: a") {
		t.Errorf("missing column: Diff = %q", d)
	}
	if d := Diff(&warehouse.Table{Columns: cols[:4]}, &warehouse.Table{Columns: cols}); !strings.Contains(d, "unexpected columns in got: a") {
		t.Errorf("extra column: Diff = %q", d)
	}
	if d := Diff(want, &warehouse.Table{Columns: cols}); !strings.Contains(d, "3 rows wanted, 0 got") {
		t.Errorf("no rows: Diff = %q", d)
	}
}

func TestProject(t *testing.T) {
	load := warehouse.Load{Table: "t", Mode: warehouse.Append, Columns: kv(), Provenance: Prov(Day(0), 1)}
	tbl := Expect(load, []any{"a", int64(1)})
	p := Project(tbl, QueryColumns(tbl)...)
	if d := Diff(&warehouse.Table{Columns: kv(), Rows: [][]any{{"a", int64(1)}}}, p); d != "" {
		t.Error(d)
	}
}

func TestFloatsEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b float64
		eq   bool
	}{
		{1, 1 + 1e-12, true}, {1, 1.001, false}, {-1e300, -1e300 * (1 + 1e-12), true}, {0, 1e-300, false}, {0, 0, true},
	} {
		if got := FloatsEqual(tc.a, tc.b); got != tc.eq {
			t.Errorf("FloatsEqual(%g, %g) = %t", tc.a, tc.b, got)
		}
	}
}
