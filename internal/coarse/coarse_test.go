package coarse_test

import (
	"math"
	"testing"

	"gitlab.com/metricgate/metricgate/internal/coarse"
)

func TestOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int64
		want coarse.Count
		low  int64
	}{
		{-3, "0", 0}, {0, "0", 0}, {1, "1-9", 1}, {9, "1-9", 1}, {10, "10-99", 10}, {99, "10-99", 10},
		{100, "100-999", 100}, {999, "100-999", 100}, {1000, "1000-9999", 1000}, {123456, "100000-999999", 100000},
		{math.MaxInt64, "1000000000000000000-", 1000000000000000000},
	} {
		got := coarse.Of(tc.n)
		if got != tc.want || got.Low() != tc.low || !got.Valid() {
			t.Errorf("Of(%d) = %q (low %d, valid %v), want %q (low %d)", tc.n, got, got.Low(), got.Valid(), tc.want, tc.low)
		}
	}
	for _, bad := range []coarse.Count{"", "7", "1-8", "10-100", "x", "-1-9"} {
		if bad.Valid() {
			t.Errorf("%q is valid", bad)
		}
	}
	if coarse.Count("").String() != "0" {
		t.Errorf("the zero Count prints %q", coarse.Count("").String())
	}
}

// TestDecadesHideTheValue: every value of a decade publishes the same
// Count, so a count that encodes a secret below 10^d says only d.
func TestDecadesHideTheValue(t *testing.T) {
	t.Parallel()
	seen := map[coarse.Count]int{}
	for n := int64(1); n < 10_000; n++ {
		seen[coarse.Of(n)]++
	}
	want := map[coarse.Count]int{"1-9": 9, "10-99": 90, "100-999": 900, "1000-9999": 9000}
	if len(seen) != len(want) {
		t.Fatalf("counts 1..9999 publish %d values, want 4: %v", len(seen), seen)
	}
	for c, n := range want {
		if seen[c] != n {
			t.Errorf("%q stands for %d counts, want %d", c, seen[c], n)
		}
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{0: 0, 0.0001234: 0.00012, 8.5: 8.5, 63.2: 63, 18234.56: 18000, 1e9 + 7: 1e9, 987654321: 990000000} {
		if got := coarse.Cost(in); got != want {
			t.Errorf("Cost(%v) = %v, want %v", in, got, want)
		}
	}
}
