package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
)

// TestStatusPerSource: a query runs on every source of its role, and the
// status shows each source's freshness; the query is stale or failing
// when any configured source of its role is, a source that never ran is
// pending, and a source no longer configured no longer counts. The status
// lists the configured sources, never their URLs.
func TestStatusPerSource(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	ctx := t.Context()
	var err error
	w.cat, err = catalog.Load(fstest.MapFS{
		"ci/ci_one.sql":     file("pipelines", "source: ci"),
		"main/main_one.sql": file("projects"),
		"main/calm_one.sql": file("issues"),
	}, catalog.Config{Sources: []string{"main", "ci"}})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	type outcome struct {
		query, source string
		status        history.QueryStatus
	}
	record := func(started time.Time, outcomes ...outcome) {
		t.Helper()
		id, err := w.store.StartRun(ctx, history.Run{Trigger: "schedule", Approval: "none", Status: history.RunRunning, StartedAt: started})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outcomes {
			qr := history.QueryRun{RunID: id, Query: o.query, Target: o.query, Source: o.source, Status: o.status, Attempts: 1,
				RowsLoaded: 100, RowsSuppressed: "1-9", Approval: "none", StartedAt: started, FinishedAt: started.Add(time.Minute),
				SnapshotTime: started.Add(-2 * time.Hour), Duration: time.Minute, SHA256: "abc"}
			if o.status == history.QueryFailed {
				qr.RowsLoaded, qr.Error = 0, "source "+o.source+": connect to the source: connection refused"
			}
			if _, err := w.store.StartQueryRun(ctx, qr); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.store.FinishRun(ctx, id, history.RunPartial, "", started.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// ci_eu last loaded three days ago; ci_us an hour ago; ci_apac is new.
	record(w.now.Add(-3*day),
		outcome{"ci_one", "ci_eu", history.QuerySucceeded}, outcome{"ci_one", "ci_us", history.QuerySucceeded},
		outcome{"main_one", "main", history.QuerySucceeded}, outcome{"main_one", "main_eu", history.QuerySucceeded},
		outcome{"calm_one", "main", history.QuerySucceeded}, outcome{"calm_one", "main_eu", history.QuerySucceeded})
	// An hour ago: main_eu is down; main_old, since removed from the
	// configuration, failed too.
	record(w.now.Add(-time.Hour),
		outcome{"ci_one", "ci_us", history.QuerySucceeded},
		outcome{"main_one", "main", history.QuerySucceeded}, outcome{"main_one", "main_eu", history.QueryFailed},
		outcome{"calm_one", "main", history.QuerySucceeded}, outcome{"calm_one", "main_eu", history.QuerySucceeded},
		outcome{"calm_one", "main_old", history.QueryFailed})

	configured := []api.Source{{Name: "ci_apac", Role: "ci", Cell: "apac"}, {Name: "ci_eu", Role: "ci", Cell: "eu"},
		{Name: "ci_us", Role: "ci", Cell: "us"}, {Name: "main", Role: "main"}, {Name: "main_eu", Role: "main", Cell: "eu"}}
	cfg := w.cfg
	cfg.Sources = configured
	w.api, err = api.New(cfg, api.Deps{History: w.store, Runs: w.sched,
		Catalog: func() *catalog.Catalog { return w.cat }, Logger: slog.New(slog.NewJSONHandler(w.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.srv.Close()
	w.srv = httptest.NewServer(w.api)
	t.Cleanup(w.srv.Close)

	resp, b := w.do("GET", "/api/v1/status", "", "")
	var st api.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || !st.Stale || !st.Failing {
		t.Errorf("status %d: stale %v failing %v, want 503, both", resp.StatusCode, st.Stale, st.Failing)
	}
	if len(st.Sources) != len(configured) || st.Sources[1] != configured[1] {
		t.Errorf("status sources %+v, want %+v", st.Sources, configured)
	}
	if strings.Contains(string(b), "postgres://") {
		t.Errorf("the status shows a URL: %s", b)
	}
	qs := map[string]api.QueryStatus{}
	for _, q := range st.Queries {
		qs[q.Name] = q
	}
	states := func(q api.QueryStatus) string {
		var parts []string
		for _, s := range q.Sources {
			parts = append(parts, s.Name+"="+s.Status)
		}
		return strings.Join(parts, " ")
	}
	for name, want := range map[string]struct{ state, sources string }{
		"ci_one":   {"stale", "ci_apac=pending ci_eu=stale ci_us=ok"},
		"main_one": {"failing", "main=ok main_eu=failing"},
		"calm_one": {"ok", "main=ok main_eu=ok"}, // main_old's failure no longer counts
	} {
		q := qs[name]
		if q.State != want.state || states(q) != want.sources {
			t.Errorf("%s: %s [%s] (%s), want %s [%s]", name, q.State, states(q), q.Reason, want.state, want.sources)
		}
	}
	ci := qs["ci_one"]
	if ci.LastSuccess == nil || w.now.Sub(*ci.LastSuccess) < 2*day {
		t.Errorf("ci_one: last success %v, want ci_eu's, three days ago (the stalest source)", ci.LastSuccess)
	}
	if !strings.Contains(ci.Reason, "source ci_eu: last loaded") {
		t.Errorf("ci_one: reason %q, want it to name ci_eu", ci.Reason)
	}
	eu := ci.Sources[1]
	if eu.Cell != "eu" || eu.Role != "ci" || eu.LastSuccess == nil || eu.SnapshotTime == nil ||
		!eu.SnapshotTime.Equal(eu.LastSuccess.Add(-time.Minute-2*time.Hour)) || !eu.Stale {
		t.Errorf("ci_one on ci_eu: %+v", eu)
	}
	if s := qs["main_one"].Sources[1]; !s.Failing || !strings.Contains(s.Error, "connection refused") {
		t.Errorf("main_one on main_eu: %+v, want failing with its error", s)
	}
	if !slicesContain(st.Problems, "query main_one is failing: source main_eu: connect to the source") {
		t.Errorf("problems %q lack main_one's failing source", st.Problems)
	}

	resp, b = w.do("GET", "/", "", "")
	page := string(b)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`data-source="ci_eu" data-state="stale"[^>]*>.*<code>ci_eu</code> <span class="muted">cell eu</span>`),
		regexp.MustCompile(`data-source="ci_apac" data-state="pending".*never loaded`),
		regexp.MustCompile(`data-source="main_eu" data-state="failing"`),
	} {
		if !want.MatchString(page) {
			t.Errorf("page (%d) lacks %s", resp.StatusCode, want)
		}
	}
	if strings.Contains(page, `data-source="main_old"`) {
		t.Error("the page shows main_old, which is no longer configured")
	}
	w.checkNoSecrets()
}

func slicesContain(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestStatusLastSuccessOlderThanTheHistoryRead: a query whose newest
// success is older than the runs the status reads (historyDepth per
// source) is stale, with that success, however many sources it runs on.
// With two sources the success used to be looked for only when exactly
// 30 runs were read: last_success null, stale false.
func TestStatusLastSuccessOlderThanTheHistoryRead(t *testing.T) {
	t.Parallel()
	for _, sources := range [][]string{{"main"}, {"main", "main_eu"}, {"main", "main_eu", "main_us"}} {
		t.Run(strings.Join(sources, "+"), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, api.Config{Token: runToken}, true)
			ctx := t.Context()
			var err error
			w.cat, err = catalog.Load(fstest.MapFS{"main/old_one.sql": file("old numbers")}, catalog.Config{})
			if err != nil {
				t.Fatal(err)
			}
			record := func(started time.Time, status history.QueryStatus) {
				t.Helper()
				id, err := w.store.StartRun(ctx, history.Run{Trigger: "api", Approval: "none", Status: history.RunRunning, StartedAt: started})
				if err != nil {
					t.Fatal(err)
				}
				for _, src := range sources {
					qr := history.QueryRun{RunID: id, Query: "old_one", Target: "old_one", Source: src, Status: status, Attempts: 1,
						Approval: "none", StartedAt: started, FinishedAt: started.Add(time.Minute), SnapshotTime: started,
						Duration: time.Minute, SHA256: "abc"}
					if status == history.QueryFailed {
						qr.Error = "source " + src + ": connect to the source: connection refused"
					}
					if _, err := w.store.StartQueryRun(ctx, qr); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.store.FinishRun(ctx, id, history.RunPartial, "", started.Add(2*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			success := w.now.Add(-4 * 24 * time.Hour).Truncate(time.Microsecond)
			record(success, history.QuerySucceeded)
			for i := range 40 { // more than the 30 runs per source the status reads
				record(w.now.Add(-time.Duration(40-i)*time.Hour), history.QueryFailed)
			}
			var configured []api.Source
			for _, src := range sources {
				configured = append(configured, api.Source{Name: src, Role: "main"})
			}
			cfg := w.cfg
			cfg.Sources = configured
			w.cfg = cfg
			w.start()

			_, b := w.do("GET", "/api/v1/status", "", "")
			var st api.Status
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			if len(st.Queries) != 1 {
				t.Fatalf("queries %+v", st.Queries)
			}
			q := st.Queries[0]
			if q.LastSuccess == nil || !q.LastSuccess.Equal(success.Add(time.Minute)) || !q.Stale {
				t.Errorf("old_one: last success %v stale %v, want %v and stale", q.LastSuccess, q.Stale, success.Add(time.Minute))
			}
			if !st.Stale {
				t.Errorf("status not stale: %q", st.Problems)
			}
			for _, s := range q.Sources {
				if s.LastSuccess == nil || !s.LastSuccess.Equal(success.Add(time.Minute)) || !s.Stale {
					t.Errorf("old_one on %s: last success %v stale %v, want %v and stale", s.Name, s.LastSuccess, s.Stale, success.Add(time.Minute))
				}
			}
		})
	}
}
