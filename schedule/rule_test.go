package schedule_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/schedule"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func mustSchedule(t *testing.T, spec string) catalog.Schedule {
	t.Helper()
	s, err := catalog.ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDue(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		sched, last, now string
		due              bool
	}{
		{"daily", "", "2026-03-02T04:00:00Z", true}, // never loaded
		{"daily", "2026-03-01T04:00:00Z", "2026-03-02T04:00:00Z", true},
		{"daily", "2026-03-01T04:00:00Z", "2026-03-01T23:59:00Z", false},
		{"daily", "2026-03-01T04:30:00Z", "2026-03-02T04:00:00Z", true}, // a rerun's load does not delay the next day
		{"weekly", "2026-03-02T04:00:00Z", "2026-03-08T04:00:00Z", false},
		{"weekly", "2026-03-02T04:00:00Z", "2026-03-09T04:00:00Z", true},
		{"weekly", "2026-02-20T04:00:00Z", "2026-03-04T04:00:00Z", true}, // a missed Monday is caught up
		{"monthly", "2026-03-01T04:00:00Z", "2026-03-31T04:00:00Z", false},
		{"0 6 * * *", "2026-03-01T04:00:00Z", "2026-03-02T04:00:00Z", true},
	} {
		var last time.Time
		if c.last != "" {
			last = at(c.last)
		}
		if got := schedule.Due(mustSchedule(t, c.sched), last, at(c.now)); got != c.due {
			t.Errorf("%s, last %s, at %s: due %v, want %v", c.sched, c.last, c.now, got, c.due)
		}
	}
}

// TestDueAndFreshAgree: a query loaded at every run it is due at is never
// stale, whatever its schedule, given a grace that covers the run and the
// source's lag; a daily query that misses a run is stale before the next.
func TestDueAndFreshAgree(t *testing.T) {
	t.Parallel()
	global, err := catalog.ParseRunSchedule("0 4 * * *")
	if err != nil {
		t.Fatal(err)
	}
	const lag, took, grace = 2 * time.Hour, 20 * time.Minute, 3 * time.Hour
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, spec := range []string{"daily", "weekly", "monthly", "0 6 * * 1-5", "0 0 1,15 * *"} {
		q := mustSchedule(t, spec)
		maxAge := schedule.MaxAge(q, global, grace)
		var last, asOf time.Time
		for run := global.Next(start); run.Year() == 2026; run = global.Next(run) {
			if !asOf.IsZero() {
				for now := run.Add(-24 * time.Hour); !now.After(run.Add(took)); now = now.Add(time.Hour) {
					if schedule.Stale(asOf, maxAge, now) {
						t.Fatalf("%s: stale at %s (data as of %s, allowed %s) though loaded at every due run", spec, now, asOf, maxAge)
					}
				}
			}
			if schedule.Due(q, last, run) {
				last, asOf = run, run.Add(-lag)
			}
		}
	}
	daily := mustSchedule(t, "daily")
	loaded := global.Next(start)
	missed := global.Next(loaded)
	if !schedule.Due(daily, loaded, missed) || !schedule.Stale(loaded.Add(-lag), schedule.MaxAge(daily, global, grace), global.Next(missed)) {
		t.Error("a daily query that missed a due run is not stale by the next run")
	}
}

func TestEveryDue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		last time.Time
		due  bool
	}{{time.Time{}, true}, {now.Add(-4 * time.Hour), true}, {now.Add(-3 * time.Hour), false}, {now.Add(time.Hour), false}} {
		if got := schedule.EveryDue(4*time.Hour, c.last, now); got != c.due {
			t.Errorf("every 4h, last %s: due %v, want %v", c.last, got, c.due)
		}
	}
}

func TestDataTime(t *testing.T) {
	t.Parallel()
	a, b, c := time.Unix(1, 0), time.Unix(2, 0), time.Unix(3, 0)
	if got := schedule.DataTime(a, b, c); !got.Equal(a) {
		t.Errorf("with an as-of time: %v", got)
	}
	if got := schedule.DataTime(time.Time{}, b, c); !got.Equal(b) {
		t.Errorf("without: %v, want the finish time", got)
	}
	if got := schedule.Age(c, a); got != 0 {
		t.Errorf("age of data from the future: %s", got)
	}
}

// TestQueryLastLoaded reads a real history: a query is last loaded when
// its stalest source was, among the sources of its newest run, also when
// that success is older than the runs read at first.
func TestQueryLastLoaded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := history.Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	record := func(at time.Time, query string, outcomes map[string]history.QueryStatus) {
		t.Helper()
		id, err := store.StartRun(ctx, history.Run{Trigger: "schedule", Status: history.RunRunning, StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range slices.Sorted(func(yield func(string) bool) {
			for k := range outcomes {
				if !yield(k) {
					return
				}
			}
		}) {
			if _, err := store.StartQueryRun(ctx, history.QueryRun{RunID: id, Query: query, Target: query, Source: src,
				Status: outcomes[src], StartedAt: at, FinishedAt: at.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ok, fail := history.QuerySucceeded, history.QueryFailed
	// two: both sources on day 1, only main on day 2.
	record(base, "two", map[string]history.QueryStatus{"main": ok, "main_eu": ok})
	record(base.Add(24*time.Hour), "two", map[string]history.QueryStatus{"main": ok, "main_eu": fail})
	// old: both on day 1, then 250 runs where main_eu fails.
	record(base, "old", map[string]history.QueryStatus{"main": ok, "main_eu": ok})
	for i := range 250 {
		record(base.Add(time.Duration(i+1)*time.Minute), "old", map[string]history.QueryStatus{"main": ok, "main_eu": fail})
	}
	// new: main_eu never succeeded.
	record(base, "new", map[string]history.QueryStatus{"main": ok, "main_eu": fail})
	for _, c := range []struct {
		query string
		at    time.Time
		ok    bool
	}{{"two", base, true}, {"old", base, true}, {"new", time.Time{}, false}, {"never", time.Time{}, false}} {
		at, found, err := schedule.QueryLastLoaded(ctx, store, c.query)
		if err != nil || found != c.ok || !at.Equal(c.at) {
			t.Errorf("%s: last loaded %v %v (%v), want %v %v", c.query, at, found, err, c.at, c.ok)
		}
	}
	daily := mustSchedule(t, "daily")
	var qs []*catalog.Query
	for _, name := range []string{"two", "old", "new", "never"} {
		qs = append(qs, &catalog.Query{Name: name, Schedule: daily})
	}
	due, err := schedule.DueQueries(context.Background(), store, qs, base.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range due {
		names = append(names, q.Name)
	}
	if !slices.Equal(names, []string{"new", "never"}) {
		t.Errorf("due at noon of day 1: %v, want [new never]", names)
	}
}

func TestAttainment(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	daily := func(days int, skip int) []schedule.Load {
		var out []schedule.Load
		for i := range days {
			if i == skip {
				continue
			}
			at := t0.Add(time.Duration(i)*day + 4*time.Hour)
			out = append(out, schedule.Load{Done: at.Add(10 * time.Minute), AsOf: at})
		}
		return out
	}
	for _, c := range []struct {
		name     string
		loads    []schedule.Load
		from, to time.Time
		want     float64
		ok       bool
	}{
		{"every day", daily(30, -1), t0, t0.Add(30 * day), 1, true},
		// Day 10's load missing: the data of day 9 (04:00) passes 27h at
		// day 10 07:00 and is replaced at day 11 04:10: 21h10m out of the
		// window from the first load (04:10 of day 0) to day 30.
		{"a day missed", daily(30, 10), t0, t0.Add(30 * day),
			1 - float64(21*time.Hour+10*time.Minute)/float64(30*day-4*time.Hour-10*time.Minute), true},
		// The window starts after the loads: the newest one before it counts.
		{"old load", daily(1, -1), t0.Add(2 * day), t0.Add(3 * day), 0, true},
		{"nothing yet", nil, t0, t0.Add(day), 0, false},
		{"loaded after the window", daily(1, -1), t0.Add(-day), t0, 0, false},
	} {
		got, ok := schedule.Attainment(c.loads, 27*time.Hour, c.from, c.to)
		if ok != c.ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
