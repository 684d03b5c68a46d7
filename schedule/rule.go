package schedule

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
)

// Due reports whether work on sched that a run started at last loaded
// (zero: never) is due at a run at now: its schedule fired since.
func Due(sched catalog.Schedule, last, now time.Time) bool {
	return last.IsZero() || !sched.Next(last).After(now)
}

// EveryDue reports whether work on a period (every) whose newest success
// was at last (zero: never) is due at now.
func EveryDue(every time.Duration, last, now time.Time) bool {
	return last.IsZero() || now.Sub(last) >= every
}

// MaxAge is how old a query's data may be before it is stale: the longer
// of its schedule's period and the global run's (a weekly query is
// allowed a week; a daily query run by a weekly global schedule, a week
// too), plus grace.
func MaxAge(query, global catalog.Schedule, grace time.Duration) time.Duration {
	return max(query.Period(), global.Period()) + grace
}

// DataTime is the time a job's data is as of: the source snapshot's as-of
// time when it was recorded, else when the job finished, else when it
// started.
func DataTime(asOf, finished, started time.Time) time.Time {
	return cmp.Or(asOf, finished, started)
}

// QueryDataTime is DataTime of a query run.
func QueryDataTime(r history.QueryRun) time.Time {
	return DataTime(r.SnapshotTime, r.FinishedAt, r.StartedAt)
}

// Age is how old data as of at is at now (never negative).
func Age(at, now time.Time) time.Duration { return max(now.Sub(at), 0) }

// Stale reports whether data as of at is older than maxAge at now.
func Stale(at time.Time, maxAge time.Duration, now time.Time) bool { return now.Sub(at) > maxAge }

// LastLoaded returns when a query last loaded on all of sources: the
// oldest of their last loads (last, by source). ok is false when one of
// them never loaded (or sources is empty).
func LastLoaded(last map[string]time.Time, sources []string) (at time.Time, ok bool) {
	for _, src := range sources {
		t, found := last[src]
		if !found || t.IsZero() {
			return time.Time{}, false
		}
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at, len(sources) > 0
}

// History is what the due rule reads of the run history (*history.Store).
type History interface {
	// QueryHistory returns the query's newest runs, newest first.
	QueryHistory(ctx context.Context, query string, limit int) ([]history.QueryRun, error)
	// LastSuccessPerSource returns the query's newest success on each
	// source it ever succeeded on.
	LastSuccessPerSource(ctx context.Context, query string) ([]history.QueryRun, error)
}

// historyDepth is how many of a query's newest runs QueryLastLoaded reads
// before it asks for the older successes.
const historyDepth = 200

// QueryLastLoaded returns the start of the run that last loaded the query
// named name on all the sources of its newest run (see LastLoaded); ok is
// false when it never ran, or one of those sources never succeeded.
func QueryLastLoaded(ctx context.Context, h History, name string) (time.Time, bool, error) {
	hist, err := h.QueryHistory(ctx, name, historyDepth)
	if err != nil || len(hist) == 0 {
		return time.Time{}, false, err
	}
	var sources []string
	for _, r := range hist {
		if r.RunID == hist[0].RunID && !slices.Contains(sources, r.Source) {
			sources = append(sources, r.Source)
		}
	}
	last := map[string]time.Time{}
	for _, r := range hist {
		if _, ok := last[r.Source]; !ok && r.Status == history.QuerySucceeded {
			last[r.Source] = r.StartedAt
		}
	}
	if _, ok := LastLoaded(last, sources); !ok && len(hist) == historyDepth {
		// Older than the runs read.
		older, err := h.LastSuccessPerSource(ctx, name)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, r := range older {
			if _, ok := last[r.Source]; !ok {
				last[r.Source] = r.StartedAt
			}
		}
	}
	at, ok := LastLoaded(last, sources)
	return at, ok, nil
}

// DueQueries returns the queries (in order) due at a run at now.
func DueQueries(ctx context.Context, h History, queries []*catalog.Query, now time.Time) ([]*catalog.Query, error) {
	var due []*catalog.Query
	for _, q := range queries {
		last, ok, err := QueryLastLoaded(ctx, h, q.Name)
		if err != nil {
			return nil, fmt.Errorf("is query %q due: %w", q.Name, err)
		}
		if !ok || Due(q.Schedule, last, now) {
			due = append(due, q)
		}
	}
	return due, nil
}
