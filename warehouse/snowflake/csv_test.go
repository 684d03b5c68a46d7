//go:build !no_snowflake

package snowflake

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

func typ(k warehouse.Kind) warehouse.Type { return warehouse.Type{Kind: k} }

func dec(s string) warehouse.Decimal {
	whole, frac, _ := strings.Cut(s, ".")
	i, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		panic(s)
	}
	return warehouse.Decimal{Int: i, Scale: int32(len(frac))}
}

func TestField(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	for _, tc := range []struct {
		v    any
		t    warehouse.Type
		want string
	}{
		{int64(-9223372036854775808), typ(warehouse.KindInt), "-9223372036854775808"},
		{dec("-12.50"), warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}, "-12.50"},
		{dec("0.000001"), typ(warehouse.KindNumeric), "0.000001"},
		{dec("12345678901234567890123456789012.123456"), typ(warehouse.KindNumeric), "12345678901234567890123456789012.123456"},
		{3.141592653589793, typ(warehouse.KindFloat), "3.141592653589793"},
		{-1.5e300, typ(warehouse.KindFloat), "-1.5e+300"},
		{math.NaN(), typ(warehouse.KindFloat), "NaN"},
		{math.Inf(1), typ(warehouse.KindFloat), "inf"},
		{math.Inf(-1), typ(warehouse.KindFloat), "-inf"},
		{"", typ(warehouse.KindText), ""},
		{true, typ(warehouse.KindBool), "true"},
		{false, typ(warehouse.KindBool), "false"},
		{time.Date(1900, 12, 31, 0, 0, 0, 0, time.UTC), typ(warehouse.KindDate), "1900-12-31"},
		{time.Date(2024, 5, 1, 13, 14, 15, 123456000, time.UTC), typ(warehouse.KindTimestamp), "2024-05-01 13:14:15.123456000"},
		{time.Date(2024, 5, 1, 18, 44, 15, 1000, ist), typ(warehouse.KindTimestampTZ), "2024-05-01 13:14:15.000001000 +00:00"},
		{warehouse.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 6.5e6}, typ(warehouse.KindInterval), "P1Y2M3DT4H6.5S"},
		{`{"a": [1, 2.5]}`, typ(warehouse.KindJSON), `{"a": [1, 2.5]}`},
		{[]any{int64(1), nil, int64(3)}, warehouse.Type{Kind: warehouse.KindInt, Array: true}, `[1,null,3]`},
		{[]any{}, warehouse.Type{Kind: warehouse.KindText, Array: true}, `[]`},
		{[]any{"a", `"q"`, "new\nline", `back\slash`, nil}, warehouse.Type{Kind: warehouse.KindText, Array: true}, `["a","\"q\"","new\nline","back\\slash",null]`},
		{[]any{dec("1.50"), nil}, warehouse.Type{Kind: warehouse.KindNumeric, Array: true}, `[1.50,null]`},
		{[]any{1.5, math.NaN(), math.Inf(-1)}, warehouse.Type{Kind: warehouse.KindFloat, Array: true}, `[1.5,"NaN","-inf"]`},
		{[]any{time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}, warehouse.Type{Kind: warehouse.KindDate, Array: true}, `["2024-05-01"]`},
		{[]any{`{"k": 1}`, nil}, warehouse.Type{Kind: warehouse.KindJSON, Array: true}, `[{"k": 1},null]`},
		{[]any{true}, warehouse.Type{Kind: warehouse.KindBool, Array: true}, `[true]`},
		{[]any{warehouse.Interval{Days: 1}}, warehouse.Type{Kind: warehouse.KindInterval, Array: true}, `["P1D"]`},
	} {
		got, err := field(tc.v, tc.t)
		if err != nil {
			t.Errorf("field(%#v, %v): %v", tc.v, tc.t, err)
			continue
		}
		if got != tc.want {
			t.Errorf("field(%#v, %v) = %q, want %q", tc.v, tc.t, got, tc.want)
		}
	}
}

func TestFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		v any
		t warehouse.Type
	}{
		{"12", typ(warehouse.KindInt)},
		{int64(1), typ(warehouse.KindText)},
		{"{not json", typ(warehouse.KindJSON)},
		{[]string{"a"}, warehouse.Type{Kind: warehouse.KindText, Array: true}},
		{[]any{"a"}, warehouse.Type{Kind: warehouse.KindInt, Array: true}},
		{time.Now(), typ(warehouse.KindInterval)},
	} {
		if got, err := field(tc.v, tc.t); err == nil {
			t.Errorf("field(%#v, %v) = %q, want an error", tc.v, tc.t, got)
		}
	}
}

func TestEncodeRow(t *testing.T) {
	cols := []warehouse.Column{
		{Name: "a", Type: typ(warehouse.KindText)},
		{Name: "b", Type: typ(warehouse.KindText)},
		{Name: "c", Type: typ(warehouse.KindText)},
		{Name: "d", Type: typ(warehouse.KindInt)},
		{Name: "e", Type: typ(warehouse.KindText)},
	}
	got, err := encodeRow(nil, []any{"", nil, "say \"hi\",\nbye", nil, `\N`}, cols)
	if err != nil {
		t.Fatal(err)
	}
	// NULL is an unquoted \N; the text \N and the empty string are quoted.
	want := `"",\N,"say ""hi"",` + "\n" + `bye",\N,"\N"` + "\n"
	if string(got) != want {
		t.Errorf("encodeRow = %q, want %q", got, want)
	}
	// A standard CSV reader sees the same fields.
	rec, err := csv.NewReader(strings.NewReader(string(got))).Read()
	if err != nil {
		t.Fatal(err)
	}
	if wantRec := []string{"", `\N`, "say \"hi\",\nbye", `\N`, `\N`}; !reflect.DeepEqual(rec, wantRec) {
		t.Errorf("csv fields %q, want %q", rec, wantRec)
	}
	if _, err := encodeRow(nil, []any{"x", "y", "z", "not an int", nil}, cols); err == nil || !strings.Contains(err.Error(), "column d") {
		t.Errorf("encodeRow with a string for an int: %v, want an error naming column d", err)
	}
}

// genRows yields n rows of (id, text).
type genRows struct {
	i, n int
	err  error
}

func (g *genRows) Next() bool { g.i++; return g.i <= g.n }
func (g *genRows) Values() ([]any, error) {
	return []any{int64(g.i), strings.Repeat("x", 100)}, nil
}
func (g *genRows) Err() error { return g.err }

func TestSpoolSplitsAndStreams(t *testing.T) {
	cols := []warehouse.Column{{Name: "id", Type: typ(warehouse.KindInt)}, {Name: "s", Type: typ(warehouse.KindText)}}
	dir := t.TempDir()
	var files []string
	var lines int
	n, err := spool(&genRows{n: 1000}, cols, dir, 10_000, func(path string) error {
		// Only the finished file exists when flush is called.
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%d files in the spool directory, want 1", len(entries))
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r := csv.NewReader(zr)
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			lines++
			if rec[0] == `\N` || len(rec[1]) != 100 {
				t.Errorf("record %q", rec)
			}
		}
		files = append(files, filepath.Base(path))
		return os.Remove(path)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1000 || lines != 1000 {
		t.Errorf("spooled %d rows, read %d lines back; want 1000", n, lines)
	}
	// About 108 bytes a row: 93 rows fill 10 000 bytes, so 11 files.
	if len(files) != 11 || files[0] != "part-000001.csv.gz" || files[10] != "part-000011.csv.gz" {
		t.Errorf("files %v, want part-000001 … part-000011", files)
	}
}

func TestSpoolEmptyAndErrors(t *testing.T) {
	cols := []warehouse.Column{{Name: "id", Type: typ(warehouse.KindInt)}, {Name: "s", Type: typ(warehouse.KindText)}}
	called := false
	n, err := spool(&genRows{}, cols, t.TempDir(), 1000, func(string) error { called = true; return nil })
	if err != nil || n != 0 || called {
		t.Errorf("empty spool: %d rows, %v, flush called %t; want 0, nil, false", n, err, called)
	}

	boom := errors.New("source gone")
	dir := t.TempDir()
	_, err = spool(&genRows{n: 5, err: boom}, cols, dir, 1<<20, func(string) error { t.Error("flushed a failed spool"); return nil })
	if !errors.Is(err, boom) {
		t.Errorf("spool with a failing source = %v, want it wrapped", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed spool left %d files", len(entries))
	}

	_, err = spool(&genRows{n: 5}, cols[:1], t.TempDir(), 1<<20, func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "2 values for 1 columns") {
		t.Errorf("spool of rows too long: %v", err)
	}
}

func TestReadValue(t *testing.T) {
	for _, tc := range []struct {
		s    string
		col  tableColumn
		want any
	}{
		{"42", tableColumn{SQLType: "NUMBER(38,0)", Type: typ(warehouse.KindInt)}, int64(42)},
		{"-0.01", tableColumn{SQLType: "NUMBER(12,2)", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}}, dec("-0.01")},
		{"3", tableColumn{SQLType: "NUMBER(12,2)", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}}, dec("3.00")},
		{"2024-02-29", tableColumn{SQLType: "DATE", Type: typ(warehouse.KindDate)}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2024-05-01 13:14:15.123456000", tableColumn{SQLType: "TIMESTAMP_NTZ", Type: typ(warehouse.KindTimestamp)}, time.Date(2024, 5, 1, 13, 14, 15, 123456000, time.UTC)},
		{"2024-05-01 18:44:15.000001000 +05:30", tableColumn{SQLType: "TIMESTAMP_TZ", Type: typ(warehouse.KindTimestampTZ)}, time.Date(2024, 5, 1, 13, 14, 15, 1000, time.UTC)},
		{"P-1M-2DT-0.000003S", tableColumn{SQLType: "VARCHAR", Type: typ(warehouse.KindInterval)}, warehouse.Interval{Months: -1, Days: -2, Microseconds: -3}},
		{"P1D", tableColumn{SQLType: "VARCHAR", Type: typ(warehouse.KindText)}, "P1D"},
		{`{"a":1}`, tableColumn{SQLType: "VARIANT", Type: typ(warehouse.KindJSON)}, `{"a":1}`},
		{`[1,null,9223372036854775807]`, tableColumn{SQLType: "ARRAY", Type: warehouse.Type{Kind: warehouse.KindInt, Array: true}}, []any{int64(1), nil, int64(9223372036854775807)}},
		{`["a",null,"","NULL"]`, tableColumn{SQLType: "ARRAY", Type: warehouse.Type{Kind: warehouse.KindText, Array: true}}, []any{"a", nil, "", "NULL"}},
		{`[{"k": 1}]`, tableColumn{SQLType: "ARRAY", Type: warehouse.Type{Kind: warehouse.KindJSON, Array: true}}, []any{`{"k":1}`}},
		{`[1.5,"NaN","-inf"]`, tableColumn{SQLType: "ARRAY", Type: warehouse.Type{Kind: warehouse.KindFloat, Array: true}}, []any{1.5, "nan", math.Inf(-1)}},
		{`["P1D"]`, tableColumn{SQLType: "ARRAY", Type: warehouse.Type{Kind: warehouse.KindInterval, Array: true}}, []any{warehouse.Interval{Days: 1}}},
	} {
		got, err := readValue(tc.s, tc.col)
		if err != nil {
			t.Errorf("readValue(%q, %s): %v", tc.s, tc.col.SQLType, err)
			continue
		}
		if !sameValue(got, tc.want) {
			t.Errorf("readValue(%q, %s) = %#v, want %#v", tc.s, tc.col.SQLType, got, tc.want)
		}
	}
}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case warehouse.Decimal:
		g, ok := got.(warehouse.Decimal)
		return ok && g.String() == w.String()
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case string:
		if w == "nan" {
			f, ok := got.(float64)
			return ok && math.IsNaN(f)
		}
	}
	return reflect.DeepEqual(got, want)
}

func TestIntervalRoundTrip(t *testing.T) {
	for _, iv := range []warehouse.Interval{
		{}, {Months: 14, Days: 3, Microseconds: 4*3600e6 + 5*60e6 + 6.5e6}, {Months: -1, Days: -2, Microseconds: -3},
		{Days: 45}, {Microseconds: 25 * 3600e6}, {Months: 12}, {Months: -25, Microseconds: -3600e6 - 1},
		{Microseconds: math.MaxInt64 / 2},
	} {
		got, err := parseInterval(iv.String())
		if err != nil || got != iv {
			t.Errorf("parseInterval(%s) = %+v, %v; want %+v", iv.String(), got, err, iv)
		}
	}
	for _, s := range []string{"", "1D", "PXD", "PT1.1234567S", "P1Q"} {
		if got, err := parseInterval(s); err == nil {
			t.Errorf("parseInterval(%q) = %+v, want an error", s, got)
		}
	}
}
