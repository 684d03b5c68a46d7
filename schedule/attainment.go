package schedule

import (
	"slices"
	"time"
)

// A Load is data made available at Done, as of AsOf (a query's success,
// a dump, a load of a dump).
type Load struct {
	Done, AsOf time.Time
}

// Attainment is the share of the time in [from, to) during which the
// data was within its objective (no older than maxAge): the service level
// attained over that window. The data at a time is the newest load done
// by then; before the first load nothing was promised yet, so the window
// starts there. ok is false when no time of the window counts (no load
// before to).
func Attainment(loads []Load, maxAge time.Duration, from, to time.Time) (ratio float64, ok bool) {
	loads = slices.Clone(loads)
	slices.SortStableFunc(loads, func(a, b Load) int { return a.Done.Compare(b.Done) })
	var good, total time.Duration
	for i, l := range loads {
		start := l.Done
		if start.Before(from) {
			start = from
		}
		end := to
		if i+1 < len(loads) && loads[i+1].Done.Before(to) {
			end = loads[i+1].Done
		}
		if !end.After(start) {
			continue
		}
		total += end.Sub(start)
		// Within the objective until AsOf+maxAge.
		if until := l.AsOf.Add(maxAge); until.After(start) {
			if until.Before(end) {
				good += until.Sub(start)
			} else {
				good += end.Sub(start)
			}
		}
	}
	if total <= 0 {
		return 0, false
	}
	return float64(good) / float64(total), true
}
