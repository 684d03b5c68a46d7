// Package coarse publishes counts of what metricgate hides: how many rows
// the group-size filter dropped, how many cells it set to NULL. Such a
// count is read off hidden rows, so an exact one is a channel: a query
// whose number of suppressed groups depends on one person's value (a
// series joined up to it, every group below min_group_size) would publish
// that value without a row being written. Published, the count says only
// its order of magnitude: "0", "1-9", "10-99", "100-999", and so on.
//
// It is a leaf package of its own, not a function of history, because the
// rule applies before anything is stored: the runner turns its filter's
// exact counts into a Count as the query ends, plan does the same, and the
// history, the API, the page, the metrics and the logs only ever hold the
// Count. One rule, in one place, that every package can import.
package coarse

import (
	"strconv"
	"strings"
)

// Count is a count published in decades: "0", "1-9", "10-99", "100-999",
// …. The zero value, "", is a count never taken (a query that did not
// run); it reads as "0".
type Count string

// Of returns the decade of n: "0" for 0 (and for a negative n, which no
// count is), "1-9" for 1 to 9, "10-99" for 10 to 99, and so on.
func Of(n int64) Count {
	if n <= 0 {
		return "0"
	}
	low := int64(1)
	for low <= n/10 {
		low *= 10
	}
	if low > (1<<63-1)/10 {
		return Count(strconv.FormatInt(low, 10) + "-")
	}
	return Count(strconv.FormatInt(low, 10) + "-" + strconv.FormatInt(low*10-1, 10))
}

// Low is the smallest count of the decade: 0, 1, 10, 100, …; 0 for a
// Count that is not one of Of's.
func (c Count) Low() int64 {
	low, _, _ := strings.Cut(string(c), "-")
	n, err := strconv.ParseInt(low, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Valid reports whether c is one of the values Of returns.
func (c Count) Valid() bool { return c != "" && Of(c.Low()) == c }

// String returns c, "0" for the zero value.
func (c Count) String() string {
	if c == "" {
		return "0"
	}
	return string(c)
}

// Cost rounds an EXPLAIN total cost to two significant digits (18234.56
// is published as 18000) for what is shown and stored: the planner's
// estimates come from the source's statistics (row counts, most common
// values, histogram bounds, which are values of rows), so an exact cost
// of a query with literal comparisons is a narrow channel to them. The
// runner compares the exact cost with max_cost.
func Cost(c float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(c, 'g', 2, 64), 64)
	if err != nil {
		return c
	}
	return r
}
