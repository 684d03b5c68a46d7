package warehousetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// FloatTolerance is the relative difference below which two floats (or a
// float and a Decimal) compare equal: a double keeps about 15 significant
// digits, and a writer may round-trip a value through text.
const FloatTolerance = 1e-9

// Equal fails t with a description of every difference between want and
// got, compared as Diff does.
func Equal(t testing.TB, want, got *warehouse.Table) {
	t.Helper()
	if d := Diff(want, got); d != "" {
		t.Errorf("tables differ:\n%s", d)
	}
}

// Diff describes how got differs from want, or returns "" when they hold
// the same rows. Columns are matched by name (their order and declared
// types do not matter, the warehouse may have reordered or mapped them);
// both tables must have the same column names. Rows are compared ignoring
// their order, as a multiset. Values are compared by what they mean:
//
//   - int64, Decimal and float64 by numeric value: exactly between int64
//     and Decimal (1.5 equals 1.50), within FloatTolerance when either is a
//     float64 (an unconstrained numeric comes back from DuckDB as a double);
//   - time.Time by instant (time.Time.Equal);
//   - strings in a KindJSON column (of want) as JSON documents;
//   - []any element by element; nil only equals nil.
//
// Use Project to compare a subset of the columns, e.g. without the
// provenance columns.
func Diff(want, got *warehouse.Table) string {
	var b strings.Builder
	wantNames, gotNames := columnNames(want), columnNames(got)
	if missing := minus(wantNames, gotNames); len(missing) > 0 {
		fmt.Fprintf(&b, "columns missing from got: %s\n", strings.Join(missing, ", "))
	}
	if extra := minus(gotNames, wantNames); len(extra) > 0 {
		fmt.Fprintf(&b, "unexpected columns in got: %s\n", strings.Join(extra, ", "))
	}
	if b.Len() > 0 {
		return b.String()
	}

	// Reorder got's columns as want's.
	gotIdx := make([]int, len(want.Columns))
	for i, c := range want.Columns {
		gotIdx[i] = slices.Index(gotNames, c.Name)
	}
	gotRows := make([][]any, len(got.Rows))
	for r, row := range got.Rows {
		if len(row) != len(got.Columns) {
			fmt.Fprintf(&b, "got row %d has %d values for %d columns\n", r, len(row), len(got.Columns))
			return b.String()
		}
		out := make([]any, len(gotIdx))
		for i, j := range gotIdx {
			out[i] = row[j]
		}
		gotRows[r] = out
	}
	for r, row := range want.Rows {
		if len(row) != len(want.Columns) {
			fmt.Fprintf(&b, "want row %d has %d values for %d columns\n", r, len(row), len(want.Columns))
			return b.String()
		}
	}

	// Bucket rows by the columns that compare exactly, then match within
	// each bucket.
	exact := make([]bool, len(want.Columns))
	for i, c := range want.Columns {
		exact[i] = c.Type.Kind != warehouse.KindJSON && !hasFloat(want.Rows, i) && !hasFloat(gotRows, i)
	}
	buckets := map[string][]int{}
	for r, row := range gotRows {
		k := rowKey(row, exact)
		buckets[k] = append(buckets[k], r)
	}
	var unmatched []int
	for r, row := range want.Rows {
		k := rowKey(row, exact)
		cands := buckets[k]
		found := -1
		for ci, gr := range cands {
			if rowsEqual(want.Columns, row, gotRows[gr]) {
				found = ci
				break
			}
		}
		if found < 0 {
			unmatched = append(unmatched, r)
			continue
		}
		buckets[k] = slices.Delete(cands, found, found+1)
	}
	var extra []int
	for _, rs := range buckets {
		extra = append(extra, rs...)
	}
	slices.Sort(extra)
	if len(unmatched) == 0 && len(extra) == 0 {
		return ""
	}
	fmt.Fprintf(&b, "%d rows wanted, %d got; %d wanted rows not found, %d unexpected rows (columns: %s)\n",
		len(want.Rows), len(got.Rows), len(unmatched), len(extra), strings.Join(wantNames, ", "))
	const maxShown = 10
	for i, r := range unmatched {
		if i == maxShown {
			fmt.Fprintf(&b, "  … %d more missing\n", len(unmatched)-maxShown)
			break
		}
		fmt.Fprintf(&b, "  - missing %s\n", FormatRow(want.Rows[r]))
	}
	for i, r := range extra {
		if i == maxShown {
			fmt.Fprintf(&b, "  … %d more unexpected\n", len(extra)-maxShown)
			break
		}
		fmt.Fprintf(&b, "  + unexpected %s\n", FormatRow(gotRows[r]))
	}
	return b.String()
}

// Project returns the columns of t named by names, in that order; it
// panics when t lacks one. Project(t, warehousetest.QueryColumns(t)...)
// drops the provenance columns.
func Project(t *warehouse.Table, names ...string) *warehouse.Table {
	all := columnNames(t)
	idx := make([]int, len(names))
	out := &warehouse.Table{Columns: make([]warehouse.Column, len(names)), Rows: make([][]any, len(t.Rows))}
	for i, n := range names {
		j := slices.Index(all, n)
		if j < 0 {
			panic(fmt.Sprintf("warehousetest.Project: table has no column %q (has %s)", n, strings.Join(all, ", ")))
		}
		idx[i] = j
		out.Columns[i] = t.Columns[j]
	}
	for r, row := range t.Rows {
		p := make([]any, len(idx))
		for i, j := range idx {
			p[i] = row[j]
		}
		out.Rows[r] = p
	}
	return out
}

// QueryColumns returns the names of t's columns that are not provenance
// columns, in t's order.
func QueryColumns(t *warehouse.Table) []string {
	var names []string
	for _, c := range t.Columns {
		if !isProvenance(c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

// FormatRow renders a row for failure messages, with each value's Go type
// where it matters ("int64(3)", "Decimal(1.50)").
func FormatRow(row []any) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = formatValue(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("%q", v)
	case int64:
		return fmt.Sprintf("int64(%d)", v)
	case float64:
		return fmt.Sprintf("float64(%g)", v)
	case warehouse.Decimal:
		return "Decimal(" + v.String() + ")"
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case warehouse.Interval:
		return fmt.Sprintf("Interval{%d months, %d days, %d µs}", v.Months, v.Days, v.Microseconds)
	case []any:
		return "[" + strings.TrimSuffix(strings.TrimPrefix(FormatRow(v), "("), ")") + "]"
	default:
		return fmt.Sprintf("%T(%v)", v, v)
	}
}

func isProvenance(name string) bool {
	for _, p := range warehouse.ProvenanceColumns {
		if p.Name == name {
			return true
		}
	}
	return false
}

func columnNames(t *warehouse.Table) []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func hasFloat(rows [][]any, col int) bool {
	for _, row := range rows {
		if col < len(row) && containsFloat(row[col]) {
			return true
		}
	}
	return false
}

func containsFloat(v any) bool {
	switch v := v.(type) {
	case float64, float32:
		return true
	case []any:
		return slices.ContainsFunc(v, containsFloat)
	}
	return false
}

// rowKey renders the exactly comparable columns of row canonically.
func rowKey(row []any, exact []bool) string {
	var b strings.Builder
	for i, v := range row {
		if exact[i] {
			b.WriteString(keyOf(v))
		}
		b.WriteByte(0)
	}
	return b.String()
}

func keyOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "N"
	case int64:
		return "n" + canonicalRat(new(big.Rat).SetInt64(v))
	case warehouse.Decimal:
		return "n" + canonicalRat(decimalRat(v))
	case time.Time:
		return "t" + v.UTC().Format(time.RFC3339Nano)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = keyOf(e)
		}
		return "[" + strings.Join(parts, "\x01") + "]"
	default:
		return fmt.Sprintf("%T:%v", v, v)
	}
}

func canonicalRat(r *big.Rat) string { return r.RatString() }

func decimalRat(d warehouse.Decimal) *big.Rat {
	if d.Int == nil {
		return new(big.Rat)
	}
	r := new(big.Rat).SetInt(d.Int)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.Scale))), nil)
	if d.Scale > 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func rowsEqual(cols []warehouse.Column, want, got []any) bool {
	for i := range want {
		if !ValueEqual(cols[i].Type.Kind, want[i], got[i]) {
			return false
		}
	}
	return true
}

// ValueEqual reports whether two values of a column of kind k are equal,
// by the rules of Diff.
func ValueEqual(k warehouse.Kind, want, got any) bool {
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	if wa, ok := want.([]any); ok {
		ga, ok := got.([]any)
		if !ok || len(wa) != len(ga) {
			return false
		}
		for i := range wa {
			if !ValueEqual(k, wa[i], ga[i]) {
				return false
			}
		}
		return true
	}
	if k == warehouse.KindJSON {
		ws, ok1 := want.(string)
		gs, ok2 := got.(string)
		if ok1 && ok2 {
			return jsonEqual(ws, gs)
		}
	}
	if wn, ok := number(want); ok {
		gn, ok := number(got)
		if !ok {
			return false
		}
		return numbersEqual(wn, gn)
	}
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && w.Equal(g)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(w, g)
	}
	return reflect.DeepEqual(want, got)
}

// num is a number: exact (rat) unless it came from a float.
type num struct {
	rat   *big.Rat
	float float64
	isF   bool
}

func number(v any) (num, bool) {
	switch v := v.(type) {
	case int64:
		return num{rat: new(big.Rat).SetInt64(v)}, true
	case int:
		return num{rat: new(big.Rat).SetInt64(int64(v))}, true
	case int32:
		return num{rat: new(big.Rat).SetInt64(int64(v))}, true
	case warehouse.Decimal:
		return num{rat: decimalRat(v)}, true
	case float64:
		return num{float: v, isF: true}, true
	case float32:
		return num{float: float64(v), isF: true}, true
	}
	return num{}, false
}

func numbersEqual(a, b num) bool {
	if !a.isF && !b.isF {
		return a.rat.Cmp(b.rat) == 0
	}
	fa, fb := a.float, b.float
	if !a.isF {
		fa, _ = a.rat.Float64()
	}
	if !b.isF {
		fb, _ = b.rat.Float64()
	}
	return FloatsEqual(fa, fb)
}

// FloatsEqual reports whether a and b are within FloatTolerance of each
// other (relative to the larger magnitude); NaN equals NaN.
func FloatsEqual(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	return math.Abs(a-b) <= FloatTolerance*math.Max(math.Abs(a), math.Abs(b))
}

func jsonEqual(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}
