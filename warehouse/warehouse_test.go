package warehouse

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

func dec(s string, scale int32) Decimal {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return Decimal{Int: n, Scale: scale}
}

func TestDecimalString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    Decimal
		want string
	}{
		{dec("1250", 2), "12.50"},
		{dec("-1250", 2), "-12.50"},
		{dec("5", 3), "0.005"},
		{dec("-5", 3), "-0.005"},
		{dec("0", 2), "0.00"},
		{dec("12", 0), "12"},
		{dec("12", -3), "12000"},
		{dec("0", -3), "0"},
		{Decimal{}, "0"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%v×10^-%d = %q, want %q", c.d.Int, c.d.Scale, got, c.want)
		}
	}
}

func TestDecimalRescale(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    Decimal
		to   int32
		want string
	}{
		{dec("12345", 3), 2, "12.35"},   // half away from zero
		{dec("-12345", 3), 2, "-12.35"}, // likewise below zero
		{dec("12344", 3), 2, "12.34"},
		{dec("12", 0), 2, "12.00"},
		{dec("125", 2), 2, "1.25"},
	} {
		if got := c.d.Rescale(c.to).String(); got != c.want {
			t.Errorf("%s to scale %d = %q, want %q", c.d, c.to, got, c.want)
		}
	}
	if f := dec("-125", 2).Float64(); f != -1.25 {
		t.Errorf("Float64 = %v", f)
	}
}

func TestIntervalString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		i    Interval
		want string
	}{
		{Interval{}, "PT0S"},
		{Interval{Months: 14, Days: 3, Microseconds: 4*3_600_000_000 + 5*60_000_000 + 6_500_000}, "P1Y2M3DT4H5M6.5S"},
		{Interval{Days: -1}, "P-1D"},
		{Interval{Microseconds: -90_000_000}, "PT-1M-30S"},
		{Interval{Microseconds: 1}, "PT0.000001S"},
	} {
		if got := c.i.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.i, got, c.want)
		}
	}
}

func TestFromPostgres(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		typname string
		typmod  int32
		want    string
	}{
		{"int8", -1, "int"},
		{"int2", -1, "int"},
		{"numeric", -1, "numeric"},
		{"numeric", 12<<16 | 2 + 4, "numeric(12,2)"},
		{"_numeric", 12<<16 | 2 + 4, "numeric(12,2)[]"},
		{"_int4", -1, "int[]"},
		{"float4", -1, "float"},
		{"timestamptz", -1, "timestamptz"},
		{"timestamp", -1, "timestamp"},
		{"interval", -1, "interval"},
		{"jsonb", -1, "json"},
		{"uuid", -1, "text"},
		{"varchar", 20, "text"},
	} {
		if got := FromPostgres(c.typname, c.typmod).String(); got != c.want {
			t.Errorf("FromPostgres(%s, %d) = %s, want %s", c.typname, c.typmod, got, c.want)
		}
	}
}

func TestLoadValidate(t *testing.T) {
	t.Parallel()
	ok := Load{Table: "t", Mode: Append, Columns: []Column{{Name: "n", Type: Type{Kind: KindInt}}},
		Provenance: Provenance{SnapshotDate: time.Now()}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*Load)
		want   string
	}{
		{func(l *Load) { l.Table = "_t" }, "starting with a letter"},
		{func(l *Load) { l.Table = "T" }, "not a lower-case identifier"},
		{func(l *Load) { l.Mode = "merge" }, `load mode "merge"`},
		{func(l *Load) { l.Columns = nil }, "no columns"},
		{func(l *Load) { l.Columns = []Column{{Name: "_run_id", Type: Type{Kind: KindInt}}} }, "without a leading _"},
		{func(l *Load) { l.Columns = append(l.Columns, l.Columns[0]) }, "appears twice"},
		{func(l *Load) { l.Columns = []Column{{Name: "n"}} }, "unknown type"},
		{func(l *Load) { l.Provenance.SnapshotDate = time.Time{} }, "no snapshot date"},
	} {
		l := ok
		l.Columns = append([]Column(nil), ok.Columns...)
		c.change(&l)
		if err := l.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want an error with %q", err, c.want)
		}
	}
}
