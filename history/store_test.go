package history

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/internal/coarse"
)

// berlin checks that times come back in UTC whatever zone they went in.
var berlin = time.FixedZone("CET", 3600)

func mustStartRun(t *testing.T, s *Store, r Run) int64 {
	t.Helper()
	id, err := s.StartRun(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustStartQueryRun(t *testing.T, s *Store, q QueryRun) int64 {
	t.Helper()
	id, err := s.StartQueryRun(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustRun(t *testing.T, s *Store, id int64) Run {
	t.Helper()
	r, err := s.Run(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ids(qs []QueryRun) []int64 {
	out := make([]int64, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	return out
}

func TestRunRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)

	started := time.Date(2025, 3, 30, 4, 0, 0, 123456000, berlin)
	id := mustStartRun(t, s, Run{
		ID:       999, // ignored
		Trigger:  "schedule",
		Approval: "gitlab",
		Status:   RunRunning,
		Queries:  7, // ignored: counted
	})
	if id == 999 {
		t.Fatal("StartRun used the given ID")
	}
	got := mustRun(t, s, id)
	if time.Since(got.StartedAt).Abs() > time.Hour || got.StartedAt.Location() != time.UTC {
		t.Errorf("zero StartedAt stored as %v, want now in UTC", got.StartedAt)
	}

	id = mustStartRun(t, s, Run{Trigger: "catch-up", Approval: "git", Status: RunRunning, StartedAt: started})
	want := Run{ID: id, Trigger: "catch-up", Approval: "git", Status: RunRunning, StartedAt: started.UTC()}
	equal(t, "started run", mustRun(t, s, id), want)

	finished := started.Add(90*time.Minute + 654321*time.Microsecond)
	if err := s.FinishRun(ctx, id, RunFailed, "source main is 30h old", finished); err != nil {
		t.Fatal(err)
	}
	want.Status, want.Error, want.FinishedAt = RunFailed, "source main is 30h old", finished.UTC()
	equal(t, "finished run", mustRun(t, s, id), want)

	// Sub-microsecond parts are truncated, the rest is exact.
	id = mustStartRun(t, s, Run{Trigger: "api", Status: RunSucceeded,
		StartedAt: started.Add(999), FinishedAt: finished.Add(1)})
	r := mustRun(t, s, id)
	if !r.StartedAt.Equal(started) || !r.FinishedAt.Equal(finished) || r.Status != RunSucceeded {
		t.Errorf("run with nanoseconds: %+v, want started %v finished %v", r, started, finished)
	}

	if _, err := s.StartRun(ctx, Run{Status: "bogus"}); err == nil {
		t.Error("StartRun accepted status bogus")
	}
}

func TestQueryRunRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	base := time.Date(2025, 3, 30, 4, 0, 0, 0, time.UTC)
	runID := mustStartRun(t, s, Run{Trigger: "manual", StartedAt: base})

	in := QueryRun{
		ID:           12345, // ignored
		RunID:        runID,
		Query:        "mr_merge_time",
		Target:       "analytics_mr_merge_time",
		Source:       "main",
		Status:       QueryRunning,
		Attempts:     1,
		Cost:         18234.56,
		SHA256:       strings.Repeat("ab", 32),
		Commit:       "0123456789abcdef0123456789abcdef01234567",
		Approval:     "gitlab !12 by @a, @b",
		SnapshotTime: time.Date(2025, 3, 29, 23, 59, 59, 999999000, berlin),
		StartedAt:    base.Add(time.Second + 1*time.Microsecond),
	}
	id := mustStartQueryRun(t, s, in)
	want := in
	want.ID = id
	want.SnapshotTime = in.SnapshotTime.UTC()
	want.RowsSuppressed, want.CellsSuppressed = "0", "0" // counts not taken read as none
	qs, err := s.QueryRuns(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "started query run", qs, []QueryRun{want})

	done := QueryRun{
		ID:              id,
		RunID:           runID,
		Query:           "mr_merge_time",
		Target:          "analytics_mr_merge_time_v2",
		Source:          "ci",
		Status:          QueryFailed,
		Error:           "load: column median_hours changed type from float8 to text",
		RowsLoaded:      1 << 40,
		RowsSuppressed:  coarse.Of(17),
		CellsSuppressed: coarse.Of(3),
		Attempts:        3,
		Cost:            0.0001234,
		SHA256:          strings.Repeat("cd", 32),
		Commit:          "fedcba9876543210fedcba9876543210fedcba98",
		Approval:        "gitlab !4711 by @a",
		MRIID:           4711,
		SnapshotTime:    base.Add(-time.Hour + 7*time.Microsecond),
		StartedAt:       base.Add(2 * time.Second),
		FinishedAt:      base.Add(time.Hour + 2*time.Second + 3*time.Microsecond),
		Duration:        time.Hour + 2*time.Minute + 3*time.Second + 456789*time.Microsecond,
	}
	// done sets every field, so that a field added to QueryRun but not
	// stored fails this test.
	v := reflect.ValueOf(done)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("test record leaves QueryRun.%s zero", v.Type().Field(i).Name)
		}
	}
	if err := s.FinishQueryRun(ctx, done); err != nil {
		t.Fatal(err)
	}
	qs, err = s.QueryRuns(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "finished query run", qs, []QueryRun{done})

	// An already-final record (skipped) with every time zero, then one
	// with sub-microsecond parts, which are truncated.
	skipped := QueryRun{RunID: runID, Query: "unapproved", Status: QuerySkipped, Error: "not approved: no merged MR touches queries/a/unapproved.sql"}
	skipped.ID = mustStartQueryRun(t, s, skipped)
	fine := QueryRun{RunID: runID, Query: "fine", Status: QuerySucceeded,
		StartedAt: base.Add(1500), Duration: 2*time.Microsecond + 999}
	fine.ID = mustStartQueryRun(t, s, fine)
	fine.StartedAt, fine.Duration = base.Add(time.Microsecond), 2*time.Microsecond
	for _, q := range []*QueryRun{&skipped, &fine} {
		q.RowsSuppressed, q.CellsSuppressed = "0", "0"
	}
	qs, err = s.QueryRuns(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "query runs", qs, []QueryRun{done, skipped, fine})

	if _, err := s.StartQueryRun(ctx, QueryRun{RunID: runID + 100, Query: "x", Status: QueryRunning}); err == nil {
		t.Error("StartQueryRun accepted an unknown run")
	}
	if _, err := s.StartQueryRun(ctx, QueryRun{RunID: runID, Query: "x", Status: "done"}); err == nil {
		t.Error("StartQueryRun accepted status done")
	}
	qs, err = s.QueryRuns(ctx, runID+100)
	if err != nil || len(qs) != 0 {
		t.Errorf("query runs of an unknown run: %v, %v; want none", qs, err)
	}
}

// history builds three runs:
//
//	run 1: a succeeded, b succeeded, c failed
//	run 2: a failed, b skipped, d running (run still running)
//	run 3: a succeeded, b failed
func history(t *testing.T, s *Store) (runs [3]int64, a, b, c, d []int64) {
	t.Helper()
	base := time.Date(2025, 1, 1, 4, 0, 0, 0, time.UTC)
	add := func(run int, name string, st QueryStatus) int64 {
		return mustStartQueryRun(t, s, QueryRun{RunID: runs[run], Query: name, Status: st,
			StartedAt: base.Add(time.Duration(run) * 24 * time.Hour), Error: fmt.Sprintf("%s in run %d", st, run+1)})
	}
	for i := range runs {
		runs[i] = mustStartRun(t, s, Run{Trigger: "schedule", StartedAt: base.Add(time.Duration(i) * 24 * time.Hour)})
		switch i {
		case 0:
			a = append(a, add(i, "a", QuerySucceeded))
			b = append(b, add(i, "b", QuerySucceeded))
			c = append(c, add(i, "c", QueryFailed))
		case 1:
			a = append(a, add(i, "a", QueryFailed))
			b = append(b, add(i, "b", QuerySkipped))
			d = append(d, add(i, "d", QueryRunning))
		case 2:
			a = append(a, add(i, "a", QuerySucceeded))
			b = append(b, add(i, "b", QueryFailed))
		}
	}
	for i, st := range []RunStatus{RunPartial, "", RunPartial} {
		if st != "" {
			if err := s.FinishRun(t.Context(), runs[i], st, "", base.Add(time.Duration(i)*24*time.Hour+time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return runs, a, b, c, d
}

func TestReads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	runs, a, b, c, d := history(t, s)

	t.Run("Run counts", func(t *testing.T) {
		for i, want := range [][4]int{{3, 2, 1, 0}, {3, 0, 1, 1}, {2, 1, 1, 0}} {
			r := mustRun(t, s, runs[i])
			if got := [4]int{r.Queries, r.Succeeded, r.Failed, r.Skipped}; got != want {
				t.Errorf("run %d: queries, succeeded, failed, skipped = %v, want %v", i+1, got, want)
			}
		}
	})
	t.Run("Runs", func(t *testing.T) {
		all, err := s.Runs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || all[0].ID != runs[2] || all[1].ID != runs[1] || all[2].ID != runs[0] {
			t.Fatalf("Runs(0) = %+v, want runs 3, 2, 1", all)
		}
		equal(t, "Runs(0)[1]", all[1], mustRun(t, s, runs[1]))
		if all[1].Status != RunRunning || all[0].Status != RunPartial || all[0].Queries != 2 {
			t.Errorf("Runs(0) = %+v", all)
		}
		two, err := s.Runs(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Runs(2)", two, all[:2])
	})
	t.Run("QueryHistory", func(t *testing.T) {
		h, err := s.QueryHistory(ctx, "a", 0)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "history of a", ids(h), []int64{a[2], a[1], a[0]})
		if h[0].RunID != runs[2] || h[1].Status != QueryFailed || h[1].Error != "failed in run 2" {
			t.Errorf("history of a: %+v", h)
		}
		h, err = s.QueryHistory(ctx, "b", 2)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "history of b, 2", ids(h), []int64{b[2], b[1]})
		h, err = s.QueryHistory(ctx, "nope", 10)
		if err != nil || len(h) != 0 {
			t.Errorf("history of nope: %v, %v; want none", h, err)
		}
	})
	t.Run("LatestQueryRuns", func(t *testing.T) {
		l, err := s.LatestQueryRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "latest", ids(l), []int64{a[2], b[2], c[0], d[0]})
		want := []QueryStatus{QuerySucceeded, QueryFailed, QueryFailed, QueryRunning}
		for i, q := range l {
			if q.Status != want[i] {
				t.Errorf("latest %s: status %s, want %s", q.Query, q.Status, want[i])
			}
		}
		qs, err := s.QueryRuns(ctx, runs[2])
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "latest a, full record", l[0], qs[0])
	})
	t.Run("LastSuccess", func(t *testing.T) {
		for name, want := range map[string]int64{"a": a[2], "b": b[0]} {
			q, err := s.LastSuccess(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if q.ID != want || q.Status != QuerySucceeded || q.Query != name {
				t.Errorf("last success of %s: %+v, want id %d", name, q, want)
			}
		}
		for _, name := range []string{"c", "d", "nope"} {
			_, err := s.LastSuccess(ctx, name)
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("last success of %s: %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestAbandonRunning(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	runs, a, _, _, d := history(t, s)
	empty := mustStartRun(t, s, Run{Trigger: "api", StartedAt: time.Now()}) // running, no queries yet
	before, err := s.QueryRuns(ctx, runs[1])
	if err != nil {
		t.Fatal(err)
	}
	finishedRun := mustRun(t, s, runs[0])

	start := time.Now().Add(-time.Second)
	n, err := s.AbandonRunning(ctx, "metricgate restarted during the run")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("abandoned %d runs, want 2", n)
	}
	for _, id := range []int64{runs[1], empty} {
		r := mustRun(t, s, id)
		if r.Status != RunFailed || r.Error != "metricgate restarted during the run" ||
			r.FinishedAt.Before(start) || time.Since(r.FinishedAt) > time.Minute {
			t.Errorf("abandoned run %d: %+v", id, r)
		}
	}
	equal(t, "finished run", mustRun(t, s, runs[0]), finishedRun)

	after, err := s.QueryRuns(ctx, runs[1])
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range after {
		w := before[i]
		if q.ID == d[0] {
			if q.Status != QueryFailed || q.Error != "metricgate restarted during the run" || q.FinishedAt.Before(start) {
				t.Errorf("abandoned query run: %+v", q)
			}
			w.Status, w.Error, w.FinishedAt = q.Status, q.Error, q.FinishedAt
		}
		equal(t, "query run "+q.Query, q, w)
	}
	if q, _ := s.LastSuccess(ctx, "a"); q.ID != a[2] {
		t.Errorf("last success of a after abandoning: %d, want %d", q.ID, a[2])
	}

	n, err = s.AbandonRunning(ctx, "again")
	if err != nil || n != 0 {
		t.Errorf("second AbandonRunning = %d, %v; want 0", n, err)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	_, err := s.Run(ctx, 42)
	if !errors.Is(err, ErrNotFound) || err.Error() != "read run 42: not found" {
		t.Errorf("Run(42) = %v, want read run 42: not found", err)
	}
	err = s.FinishRun(ctx, 42, RunSucceeded, "", time.Now())
	if !errors.Is(err, ErrNotFound) || err.Error() != "finish run 42: not found" {
		t.Errorf("FinishRun(42) = %v", err)
	}
	err = s.FinishQueryRun(ctx, QueryRun{ID: 42, Query: "a", Status: QuerySucceeded})
	if !errors.Is(err, ErrNotFound) || err.Error() != "finish query run 42: not found" {
		t.Errorf("FinishQueryRun(42) = %v", err)
	}
	_, err = s.LastSuccess(ctx, "a")
	if !errors.Is(err, ErrNotFound) || err.Error() != `read last success of query "a": not found` {
		t.Errorf("LastSuccess(a) = %v", err)
	}
	runs, err := s.Runs(ctx, 10)
	if err != nil || len(runs) != 0 {
		t.Errorf("Runs of an empty history: %v, %v", runs, err)
	}
}

func TestLastSuccessPerSource(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, true)
	run := mustStartRun(t, s, Run{Trigger: "api", Status: RunRunning})
	at := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	add := func(query, source string, st QueryStatus) int64 {
		return mustStartQueryRun(t, s, QueryRun{RunID: run, Query: query, Target: query, Source: source, Status: st,
			StartedAt: at, FinishedAt: at})
	}
	eu1 := add("q", "eu", QuerySucceeded)
	us := add("q", "us", QuerySucceeded)
	eu2 := add("q", "eu", QuerySucceeded)
	add("q", "eu", QueryFailed)
	add("q", "apac", QueryFailed)
	add("other", "eu", QuerySucceeded)
	got, err := s.LastSuccessPerSource(t.Context(), "q")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "last successes of q", ids(got), []int64{eu2, us})
	_ = eu1
	none, err := s.LastSuccessPerSource(t.Context(), "never")
	if err != nil || len(none) != 0 {
		t.Errorf("a query that never succeeded: %v, %v", none, err)
	}
}

func TestSuccessesSince(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	run := mustStartRun(t, s, Run{Trigger: "api", Status: RunRunning})
	since := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	add := func(source string, st QueryStatus, days int) int64 {
		at := since.Add(time.Duration(days) * 24 * time.Hour)
		return mustStartQueryRun(t, s, QueryRun{RunID: run, Query: "q", Target: "q", Source: source, Status: st, StartedAt: at, FinishedAt: at})
	}
	add("eu", QuerySucceeded, -3)
	euBefore := add("eu", QuerySucceeded, -2)
	add("eu", QueryFailed, -1)
	usBefore := add("us", QuerySucceeded, -5)
	eu1 := add("eu", QuerySucceeded, 1)
	add("us", QueryFailed, 2)
	eu3 := add("eu", QuerySucceeded, 3)
	got, err := s.SuccessesSince(ctx, "q", since)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "successes since", ids(got), []int64{euBefore, usBefore, eu1, eu3})

	for _, d := range []struct {
		group string
		st    DumpStatus
		days  int
	}{{"a", DumpSucceeded, -2}, {"a", DumpSucceeded, -1}, {"b", DumpSucceeded, -4}, {"a", DumpFailed, 1}, {"a", DumpSucceeded, 2}} {
		at := since.Add(time.Duration(d.days) * 24 * time.Hour)
		if _, err := s.StartDump(ctx, Dump{Group: d.group, Status: d.st, Location: fmt.Sprintf("dumps/%d/", d.days), StartedAt: at, FinishedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartDumpLoad(ctx, DumpLoad{Location: fmt.Sprintf("dumps/%d/", d.days), Status: d.st, StartedAt: at, FinishedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	dumps, err := s.SucceededDumpsSince(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	var locs []string
	for _, d := range dumps {
		locs = append(locs, d.Group+" "+d.Location)
	}
	equal(t, "dumps since", locs, []string{"a dumps/-1/", "b dumps/-4/", "a dumps/2/"})
	loads, err := s.SucceededDumpLoadsSince(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	locs = nil
	for _, l := range loads {
		locs = append(locs, l.Location)
	}
	equal(t, "loads since", locs, []string{"dumps/-1/", "dumps/2/"})
}
