package results

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/big"
	"slices"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

func str(s string) *string { return &s }

// TestCSVRecords: what csvWriter writes, csvReader reads back, NULL apart
// from the empty string, and every character that needs quoting.
func TestCSVRecords(t *testing.T) {
	records := [][]*string{
		{nil, str(""), str("plain")},
		{str(`"quoted"`), str("a,b"), str("line\nbreak")},
		{str("cr\r\nlf"), str(" lead"), str("trail ")},
		{str(`\.`), str(`back\slash`), str("ünïcödé ✓")},
		{nil, nil, nil},
		{str(""), str(""), str("")},
	}
	var buf bytes.Buffer
	w := newCSVWriter(&buf)
	for _, r := range records {
		if err := w.write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String()[:len(",\"\",plain\n")]; got != ",\"\",plain\n" {
		t.Errorf("first record %q: want NULL empty and unquoted, the empty string quoted", got)
	}
	r := newCSVReader(&buf)
	for i, want := range records {
		got, err := r.read()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !sameFields(got, want) {
			t.Errorf("record %d: got %s, want %s", i, show(got), show(want))
		}
	}
	if _, err := r.read(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
}

func TestCSVRefusesBrokenInput(t *testing.T) {
	for _, in := range []string{"a,b", "\"open\n", "a\"b,c\n", "\"x\"y\n"} {
		r := newCSVReader(bytes.NewBufferString(in))
		if _, err := r.read(); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%q: %v, want an error", in, err)
		}
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("a", "", true, "x\n\"y\",")
	f.Fuzz(func(t *testing.T, a, b string, bNull bool, c string) {
		rec := []*string{&a, &b, &c}
		if bNull {
			rec[1] = nil
		}
		var buf bytes.Buffer
		w := newCSVWriter(&buf)
		if err := w.write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		got, err := newCSVReader(&buf).read()
		if err != nil {
			t.Fatalf("%s: %v", show(rec), err)
		}
		if !sameFields(got, rec) {
			t.Errorf("got %s, want %s", show(got), show(rec))
		}
	})
}

func sameFields(a, b []*string) bool {
	return slices.EqualFunc(a, b, func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) })
}

func show(r []*string) string {
	var b bytes.Buffer
	for _, f := range r {
		if f == nil {
			b.WriteString("[NULL]")
		} else {
			b.WriteString("[" + *f + "]")
		}
	}
	return b.String()
}

// TestValues: every kind goes through its text and back unchanged.
func TestValues(t *testing.T) {
	dec := func(s string) warehouse.Decimal {
		d, err := parseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ts := time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC)
	cases := []struct {
		typ  warehouse.Type
		v    any
		text string
	}{
		{warehouse.Type{Kind: warehouse.KindText}, "", ""},
		{warehouse.Type{Kind: warehouse.KindInt}, int64(math.MinInt64), "-9223372036854775808"},
		{warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}, warehouse.Decimal{Int: big.NewInt(-5), Scale: 2}, "-0.05"},
		{warehouse.Type{Kind: warehouse.KindNumeric}, dec("123456789012345678901234567890.000000001"), "123456789012345678901234567890.000000001"},
		{warehouse.Type{Kind: warehouse.KindFloat}, 0.1, "0.1"},
		{warehouse.Type{Kind: warehouse.KindFloat}, math.Inf(-1), "-Inf"},
		{warehouse.Type{Kind: warehouse.KindBool}, false, "false"},
		{warehouse.Type{Kind: warehouse.KindDate}, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), "2024-05-01"},
		{warehouse.Type{Kind: warehouse.KindTimestampTZ}, ts, "2024-02-29T23:59:59.123456Z"},
		{warehouse.Type{Kind: warehouse.KindTimestamp}, ts, "2024-02-29T23:59:59.123456Z"},
		{warehouse.Type{Kind: warehouse.KindInterval}, warehouse.Interval{Months: -14, Days: 3, Microseconds: -5_500_000}, "P-1Y-2M3DT-5.5S"},
		{warehouse.Type{Kind: warehouse.KindInterval}, warehouse.Interval{Microseconds: 90*60_000_000 + 1}, "PT1H30M0.000001S"},
		{warehouse.Type{Kind: warehouse.KindInterval}, warehouse.Interval{}, "PT0S"},
		{warehouse.Type{Kind: warehouse.KindJSON}, `{"a": [1, null]}`, `{"a": [1, null]}`},
		{warehouse.Type{Kind: warehouse.KindInt, Array: true}, []any{int64(1), nil, int64(-3)}, "[1,null,-3]"},
		{warehouse.Type{Kind: warehouse.KindText, Array: true}, []any{"a,\"b\"", "", nil}, `["a,\"b\"","",null]`},
		{warehouse.Type{Kind: warehouse.KindFloat, Array: true}, []any{math.NaN(), 1e21}, `["NaN",1e+21]`},
		{warehouse.Type{Kind: warehouse.KindText, Array: true}, []any{}, "[]"},
	}
	for _, c := range cases {
		text, err := encodeValue(c.typ, c.v)
		if err != nil {
			t.Errorf("%v %v: %v", c.typ, c.v, err)
			continue
		}
		if text != c.text {
			t.Errorf("%v %v: written %q, want %q", c.typ, c.v, text, c.text)
		}
		back, err := decodeValue(c.typ, text)
		if err != nil {
			t.Errorf("%v %q: %v", c.typ, text, err)
			continue
		}
		if !sameValue(back, c.v) {
			t.Errorf("%v %q: read back %#v, want %#v", c.typ, text, back, c.v)
		}
		parsed, err := parseType(c.typ.String())
		if err != nil || parsed != c.typ {
			t.Errorf("type %v: parsed back as %v, %v", c.typ, parsed, err)
		}
	}
	if _, err := encodeValue(warehouse.Type{Kind: warehouse.KindInt}, "1"); err == nil {
		t.Error("a string was written as an int")
	}
	for _, bad := range []string{"P", "P1X", "PT1D", "P1.5Y", "1D"} {
		if _, err := parseInterval(bad); err == nil {
			t.Errorf("interval %q parsed", bad)
		}
	}
}

func sameValue(a, b any) bool {
	switch a := a.(type) {
	case warehouse.Decimal:
		bd, ok := b.(warehouse.Decimal)
		return ok && a.Scale == bd.Scale && a.Int.Cmp(bd.Int) == 0
	case float64:
		bf, ok := b.(float64)
		return ok && (a == bf || math.IsNaN(a) && math.IsNaN(bf))
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.Equal(bt) && a.Location() == time.UTC
	case []any:
		bs, ok := b.([]any)
		return ok && slices.EqualFunc(a, bs, func(x, y any) bool { return x == nil && y == nil || x != nil && y != nil && sameValue(x, y) })
	}
	return a == b
}
