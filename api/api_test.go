package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schedule"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Secrets that must never show in a response or a log line.
const (
	runToken   = "run-token-0f9e8d7c6b5a"
	readToken  = "read-token-a1b2c3d4e5f6"
	dbPassword = "db-password-that-must-not-leak"
)

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// blockingRun is a RunMaker that records a run and waits for release.
type blockingRun struct {
	store   *history.Store
	release chan struct{}
	names   chan []string
}

func (f *blockingRun) Run(ctx context.Context, opts runner.Options) (*runner.Result, error) {
	id, err := f.store.StartRun(ctx, history.Run{Trigger: opts.Trigger, Approval: "none", Status: history.RunRunning})
	if err != nil {
		return nil, err
	}
	opts.Started(id)
	var names []string
	for _, q := range opts.Queries {
		names = append(names, q.Name)
	}
	f.names <- names
	<-f.release
	return &runner.Result{RunID: id, Status: history.RunSucceeded}, f.store.FinishRun(context.WithoutCancel(ctx), id, history.RunSucceeded, "", time.Now())
}

// world is an API over a real history database with a small catalog.
type world struct {
	t       *testing.T
	dsn     string
	store   *history.Store
	cat     *catalog.Catalog
	sched   *runner.Scheduler
	run     *blockingRun
	api     *api.API
	srv     *httptest.Server
	log     *syncBuffer
	now     time.Time
	bodies  []string // every response, headers and body, for the secret check
	bodyMu  sync.Mutex
	cfg     api.Config
	history api.History
	runs    api.Runs // the scheduler the API is given; w.sched when nil
}

const (
	queryHeader = "-- description: %s\n-- owner: @pm\n-- group_size: n\n"
	querySQL    = "SELECT k, count(*) AS n FROM t GROUP BY k\n"
)

func file(desc string, extra ...string) *fstest.MapFile {
	h := strings.Replace(queryHeader, "%s", desc, 1)
	for _, x := range extra {
		h += "-- " + x + "\n"
	}
	return &fstest.MapFile{Data: []byte(h + querySQL)}
}

// newWorld fills a history: fresh_one succeeded an hour ago, failing_one's
// newest run failed, stale_one last succeeded three days ago, weekly_one
// two days ago (fine for weekly), new_one never ran.
func newWorld(t *testing.T, cfg api.Config, healthy bool) *world {
	t.Helper()
	w := &world{t: t, log: &syncBuffer{}, now: time.Now().UTC()}
	w.dsn = withPassword(t, pgtest.New(t))
	var err error
	w.store, err = history.Open(t.Context(), w.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.store.Close() })
	if err := w.store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"a/fresh_one.sql":  file("fresh numbers"),
		"a/weekly_one.sql": file("weekly numbers", "schedule: weekly"),
		"b/new_one.sql":    file("not run yet"),
	}
	if !healthy {
		fsys["b/failing_one.sql"] = file("breaks")
		fsys["c/stale_one.sql"] = file("old numbers")
	}
	w.cat, err = catalog.Load(fsys, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	w.record(w.now.Add(-3*day), map[string]history.QueryStatus{"stale_one": history.QuerySucceeded, "failing_one": history.QuerySucceeded})
	w.record(w.now.Add(-2*day), map[string]history.QueryStatus{"weekly_one": history.QuerySucceeded, "failing_one": history.QueryFailed})
	w.record(w.now.Add(-time.Hour), map[string]history.QueryStatus{"fresh_one": history.QuerySucceeded, "failing_one": history.QueryFailed, "stale_one": history.QueryFailed})

	w.run = &blockingRun{store: w.store, release: make(chan struct{}), names: make(chan []string, 4)}
	w.sched, err = runner.NewScheduler(runner.SchedulerConfig{}, runner.SchedulerDeps{Runner: w.run, Store: w.store,
		Logger: slog.New(slog.NewJSONHandler(w.log, nil)),
		Plan: func(_ context.Context, names []string, all bool, _ time.Time) (runner.Options, error) {
			var opts runner.Options
			for _, q := range w.cat.Queries {
				if all || len(names) == 0 {
					opts.Queries = append(opts.Queries, q)
				}
				for _, n := range names {
					if n == q.Name {
						opts.Queries = append(opts.Queries, q)
					}
				}
			}
			return opts, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	w.sched.Start(context.Background()) // no catch-up: the newest run is an hour old
	t.Cleanup(func() {
		close(w.run.release)
		if err := w.sched.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	w.cfg = cfg
	w.history = w.store
	w.start()
	return w
}

func (w *world) start() {
	w.t.Helper()
	var err error
	var runs api.Runs = w.sched
	if w.runs != nil {
		runs = w.runs
	}
	w.api, err = api.New(w.cfg, api.Deps{History: w.history, Runs: runs, Catalog: func() *catalog.Catalog { return w.cat },
		Logger: slog.New(slog.NewJSONHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		w.t.Fatal(err)
	}
	if w.srv != nil {
		w.srv.Close()
	}
	w.srv = httptest.NewServer(w.api)
	w.t.Cleanup(w.srv.Close)
}

// record records a scheduled run at started with the given query outcomes.
func (w *world) record(started time.Time, outcomes map[string]history.QueryStatus) int64 {
	w.t.Helper()
	ctx := w.t.Context()
	id, err := w.store.StartRun(ctx, history.Run{Trigger: "schedule", Approval: "none", Status: history.RunRunning, StartedAt: started})
	if err != nil {
		w.t.Fatal(err)
	}
	status := history.RunSucceeded
	for _, name := range []string{"fresh_one", "failing_one", "stale_one", "weekly_one"} {
		st, ok := outcomes[name]
		if !ok {
			continue
		}
		qr := history.QueryRun{RunID: id, Query: name, Target: name, Source: "main", Status: st, Attempts: 1,
			RowsLoaded: 120, RowsSuppressed: "1-9", CellsSuppressed: "10-99", Approval: "none", StartedAt: started, FinishedAt: started.Add(90 * time.Second),
			Duration: 90 * time.Second, SHA256: "abc"}
		if st == history.QueryFailed {
			qr.RowsLoaded, qr.RowsSuppressed, qr.CellsSuppressed = 0, "0", "0"
			qr.Error = `query: ERROR: column "x" does not exist (SQLSTATE 42703)`
			status = history.RunPartial
		}
		if _, err := w.store.StartQueryRun(ctx, qr); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.store.FinishRun(ctx, id, status, "", started.Add(2*time.Minute)); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func withPassword(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword) // trust auth ignores it
	return u.String()
}

// reply is a response whose body has been read.
type reply struct {
	StatusCode int
	Header     http.Header
	Path       string
}

// do makes a request and returns the response with its body read.
func (w *world) do(method, path, auth, body string) (reply, []byte) {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(w.t.Context(), method, w.srv.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	var hdr bytes.Buffer
	_ = resp.Header.Write(&hdr)
	w.bodyMu.Lock()
	w.bodies = append(w.bodies, method+" "+path+"\n"+hdr.String()+"\n"+string(b))
	w.bodyMu.Unlock()
	if resp.Header.Get(api.RequestIDHeader) == "" {
		w.t.Errorf("%s %s: no %s header", method, path, api.RequestIDHeader)
	}
	return reply{StatusCode: resp.StatusCode, Header: resp.Header, Path: resp.Request.URL.Path}, b
}

// checkNoSecrets fails when a response or log line shows a secret.
func (w *world) checkNoSecrets() {
	w.t.Helper()
	all := strings.Join(w.bodies, "\n") + w.log.String()
	for _, s := range []string{runToken, readToken, dbPassword} {
		if strings.Contains(all, s) {
			w.t.Errorf("a response or log line contains the secret %q", s)
		}
	}
}

// errorShape checks the one error shape and returns its code.
func errorShape(t *testing.T, what string, b []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Status    int    `json:"status"`
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || e.Error.RequestID == "" || e.Error.Status == 0 {
		t.Errorf("%s: not the error shape: %s", what, b)
	}
	return e.Error.Code
}

func TestRoutesAndStatusCodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, false)
	spec := loadSpec(t)
	bearer := "Bearer " + runToken
	for _, tc := range []struct {
		method, path, auth, body string
		code                     int
		errCode                  string
	}{
		{"GET", "/healthz", "", "", 200, ""},
		{"GET", "/readyz", "", "", 200, ""},
		{"GET", "/api/v1/status", "", "", 503, ""},
		{"GET", "/api/v1/runs", "", "", 200, ""},
		{"GET", "/api/v1/runs?limit=2", "", "", 200, ""},
		{"GET", "/api/v1/runs?limit=-1", "", "", 400, "bad_request"},
		{"GET", "/api/v1/runs/1", "", "", 200, ""},
		{"GET", "/api/v1/runs/999999", "", "", 404, "not_found"},
		{"GET", "/api/v1/runs/abc", "", "", 404, "not_found"},
		{"GET", "/api/v1/queries", "", "", 200, ""},
		{"GET", "/api/v1/queries/fresh_one", "", "", 200, ""},
		{"GET", "/api/v1/queries/fresh_on", "", "", 404, "not_found"},
		{"GET", "/api/v1/dumps", "", "", 200, ""},
		{"GET", "/metrics", "", "", 200, ""},
		{"GET", "/", "", "", 503, ""},
		{"GET", "/nope", "", "", 404, "not_found"},
		{"DELETE", "/api/v1/runs", bearer, "", 405, "method_not_allowed"},
		{"POST", "/api/v1/runs", "", "", 401, "unauthorized"},
		{"POST", "/api/v1/runs", "Basic " + runToken, "", 401, "unauthorized"},
		{"POST", "/api/v1/runs", "Bearer wrong", "", 403, "forbidden"},
		{"POST", "/api/v1/runs", bearer, `{"queries": ["fresh_on"]}`, 400, "unknown_query"},
		{"POST", "/api/v1/runs", bearer, `{"query": "x"}`, 400, "bad_request"},
		{"POST", "/api/v1/runs", bearer, `{"queries": ["` + strings.Repeat("x", 70<<10) + `"]}`, 413, "too_large"},
	} {
		resp, b := w.do(tc.method, tc.path, tc.auth, tc.body)
		what := tc.method + " " + tc.path
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d: %s", what, resp.StatusCode, tc.code, b)
			continue
		}
		if tc.errCode != "" {
			if code := errorShape(t, what, b); code != tc.errCode {
				t.Errorf("%s: error code %q, want %q", what, code, tc.errCode)
			}
		}
		spec.check(t, tc.method, resp, b)
	}
	if strings.Contains(w.log.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", w.log)
	}

	// A run: 202 with its id, 409 while it runs (in this replica, or in
	// another that holds the lock), the named query only.
	resp, b := w.do("POST", "/api/v1/runs", bearer, `{"queries": ["fresh_one"]}`)
	spec.check(t, "POST", resp, b)
	var started struct {
		RunID int64  `json:"run_id"`
		URL   string `json:"url"`
	}
	if err := json.Unmarshal(b, &started); resp.StatusCode != http.StatusAccepted || err != nil || started.RunID == 0 ||
		resp.Header.Get("Location") != started.URL {
		t.Fatalf("POST /api/v1/runs: %d %s", resp.StatusCode, b)
	}
	if names := <-w.run.names; len(names) != 1 || names[0] != "fresh_one" {
		t.Errorf("the run ran %v, want [fresh_one]", names)
	}
	resp, b = w.do("POST", "/api/v1/runs", bearer, "")
	if resp.StatusCode != http.StatusConflict || errorShape(t, "second POST", b) != "run_in_progress" {
		t.Errorf("a second run while one runs: %d %s", resp.StatusCode, b)
	}
	other, err := history.Open(t.Context(), w.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	resp, b = w.do("GET", started.URL, "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"running"`) {
		t.Errorf("GET %s: %d %s", started.URL, resp.StatusCode, b)
	}
	w.run.release <- struct{}{} // the run ends
	release, ok := waitLock(t, other)
	// Another replica holds the lock: this one answers 409 too.
	resp, b = w.do("POST", "/api/v1/runs", bearer, "")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("POST while another replica holds the run lock: %d %s", resp.StatusCode, b)
	}
	if ok {
		release()
	}
	w.checkNoSecrets()
}

// waitLock takes the run lock once the run that holds it has ended.
func waitLock(t *testing.T, s *history.Store) (func(), bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	release, err := s.RunLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return release, true
}

func TestStatusFreshness(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, false)
	resp, b := w.do("GET", "/api/v1/status", "", "")
	var st api.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || st.State != "failing" || !st.Stale || !st.Failing {
		t.Errorf("status %d: state %s stale %v failing %v", resp.StatusCode, st.State, st.Stale, st.Failing)
	}
	want := map[string]string{"fresh_one": "ok", "failing_one": "failing", "stale_one": "failing", "weekly_one": "ok", "new_one": "pending"}
	for _, q := range st.Queries {
		if want[q.Name] != q.State {
			t.Errorf("query %s: state %s (%s), want %s", q.Name, q.State, q.Reason, want[q.Name])
		}
		delete(want, q.Name)
	}
	if len(want) > 0 {
		t.Errorf("queries missing from the status: %v", want)
	}
	for _, q := range st.Queries {
		switch q.Name {
		case "stale_one":
			if !q.Stale || q.MaxAgeSeconds != (27*time.Hour).Seconds() {
				t.Errorf("stale_one: stale %v, max age %vs (want 24h + 3h)", q.Stale, q.MaxAgeSeconds)
			}
		case "weekly_one":
			if q.Stale || q.MaxAgeSeconds != (7*24*time.Hour+3*time.Hour).Seconds() {
				t.Errorf("weekly_one: stale %v, max age %vs (want 7d + 3h)", q.Stale, q.MaxAgeSeconds)
			}
		}
	}

	// A grace that covers three days makes nothing stale, but the failures
	// still fail the status.
	w.cfg.FreshnessGrace = 80 * time.Hour
	w.start()
	_, b = w.do("GET", "/api/v1/status", "", "")
	st = api.Status{}
	if err := json.Unmarshal(b, &st); err != nil || st.Stale || !st.Failing {
		t.Errorf("with 80h of grace: stale %v failing %v (%v)", st.Stale, st.Failing, err)
	}

	// A healthy catalog: 200.
	h := newWorld(t, api.Config{Token: runToken}, true)
	resp, b = h.do("GET", "/api/v1/status", "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"state":"ok"`) {
		t.Errorf("healthy status: %d %s", resp.StatusCode, b)
	}
	resp, _ = h.do("GET", "/", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthy page: %d", resp.StatusCode)
	}

	// Dumps: a failed newest dump fails the status; an old load is stale.
	ctx := t.Context()
	id, err := h.store.StartDump(ctx, history.Dump{Group: "gitlab-org", Status: history.DumpSucceeded,
		StartedAt: h.now.Add(-2 * time.Hour), FinishedAt: h.now.Add(-time.Hour), Rows: 10, Tables: 2, Location: "dumps/x/1/"})
	if err != nil || id == 0 {
		t.Fatal(err)
	}
	if _, err := h.store.StartDumpLoad(ctx, history.DumpLoad{Location: "dumps/x/1/", Status: history.DumpSucceeded,
		SnapshotTime: h.now.Add(-40 * time.Hour), StartedAt: h.now.Add(-time.Hour), FinishedAt: h.now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.api.Invalidate()
	resp, b = h.do("GET", "/api/v1/status", "", "")
	st = api.Status{}
	if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != http.StatusServiceUnavailable || len(st.Dumps) != 2 ||
		st.Dumps[0].State != "ok" || st.Dumps[1].State != "stale" || st.Failing {
		t.Errorf("with an old load: %d %+v", resp.StatusCode, st.Dumps)
	}
	resp, b = h.do("GET", "/api/v1/dumps", "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"group":"gitlab-org"`) || !strings.Contains(string(b), `"loads":[{`) {
		t.Errorf("dumps: %d %s", resp.StatusCode, b)
	}
	w.checkNoSecrets()
	h.checkNoSecrets()
}

func TestReadToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken, ReadToken: readToken}, true)
	for _, path := range []string{"/api/v1/status", "/api/v1/runs", "/api/v1/runs/1", "/api/v1/queries",
		"/api/v1/queries/fresh_one", "/api/v1/dumps", "/metrics", "/"} {
		if resp, b := w.do("GET", path, "", ""); resp.StatusCode != http.StatusUnauthorized || errorShape(t, path, b) != "unauthorized" ||
			resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without a token: %d", path, resp.StatusCode)
		}
		if resp, _ := w.do("GET", path, "Bearer nope", ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s with a wrong token: %d", path, resp.StatusCode)
		}
		if resp, b := w.do("GET", path, "Bearer "+readToken, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the read token: %d %s", path, resp.StatusCode, b)
		}
	}
	// A browser sends it as the password of basic authentication.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+"/", nil)
	req.SetBasicAuth("wall", readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("page with basic auth: %v %v", resp.StatusCode, err)
	}
	_ = resp.Body.Close()
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, _ := w.do("GET", path, "", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s needs no token: %d", path, resp.StatusCode)
		}
	}
	// The read token does not start runs.
	if resp, _ := w.do("POST", "/api/v1/runs", "Bearer "+readToken, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with the read token: %d", resp.StatusCode)
	}
	w.checkNoSecrets()
}

func TestNewRefusesNoToken(t *testing.T) {
	t.Parallel()
	deps := api.Deps{History: (*history.Store)(nil), Runs: &runner.Scheduler{}}
	if _, err := api.New(api.Config{}, deps); err == nil || !strings.Contains(err.Error(), "api.token") {
		t.Errorf("New without a token: %v", err)
	}
	if _, err := api.New(api.Config{AllowUnauthenticatedRuns: true}, deps); err != nil {
		t.Errorf("New without a token, explicitly allowed: %v", err)
	}
	if _, err := api.New(api.Config{Token: "x", ReadToken: "x"}, deps); err == nil {
		t.Error("New with read token = run token: no error")
	}
}

func TestUnauthenticatedRunsWhenAllowed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{AllowUnauthenticatedRuns: true}, true)
	resp, b := w.do("POST", "/api/v1/runs", "", "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST without a token, allowed: %d %s", resp.StatusCode, b)
	}
	if names := <-w.run.names; len(names) != len(w.cat.Queries) {
		t.Errorf("an empty body ran %v, want every query", names)
	}
	w.run.release <- struct{}{}
}

func TestApprovalNoneSaysSoOnEveryResponse(t *testing.T) {
	t.Parallel()
	for _, approval := range []string{"none", "git"} {
		w := newWorld(t, api.Config{Token: runToken, Approval: approval}, false)
		for _, path := range []string{"/healthz", "/readyz", "/api/v1/status", "/api/v1/runs", "/api/v1/runs/1",
			"/api/v1/runs/0", "/api/v1/queries", "/api/v1/queries/fresh_one", "/api/v1/dumps", "/metrics", "/", "/nope"} {
			resp, b := w.do("GET", path, "", "")
			says := resp.Header.Get("X-Metricgate-Approval") == "none" && strings.Contains(resp.Header.Get("Warning"), "approval is none")
			switch {
			case strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
				says = says && strings.HasPrefix(string(b), `{"warning":"queries.approval is none`)
			case path == "/":
				says = says && strings.Contains(string(b), "queries.approval is none")
			case path == "/metrics":
				says = says && strings.Contains(string(b), "metricgate_approval_none 1")
			}
			if approval == "none" && !says {
				t.Errorf("approval none: GET %s does not say so:\n%v\n%.300s", path, resp.Header, b)
			}
			if approval == "git" && (resp.Header.Get("X-Metricgate-Approval") != "" || strings.Contains(string(b), "approval is none")) {
				t.Errorf("approval git: GET %s warns of approval none", path)
			}
		}
	}
}

// panicky is a history whose run list panics.
type panicky struct{ *history.Store }

func (panicky) Runs(context.Context, int) ([]history.Run, error) { panic("kaboom") }

func TestPanicIsA500InTheErrorShape(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	w.history = panicky{w.store}
	w.start()
	resp, b := w.do("GET", "/api/v1/runs", "", "")
	if resp.StatusCode != http.StatusInternalServerError || errorShape(t, "panic", b) != "internal" || strings.Contains(string(b), "kaboom") {
		t.Errorf("panic: %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(w.log.String(), "kaboom") || !strings.Contains(w.log.String(), resp.Header.Get(api.RequestIDHeader)) {
		t.Errorf("the panic is not logged with the request id:\n%s", w.log)
	}
	// The server goes on.
	if resp, _ := w.do("GET", "/healthz", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("after a panic: %d", resp.StatusCode)
	}
}

func TestHistoryDownIsNotReadyAndLeaksNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken, ReadToken: readToken, CacheTTL: -1}, true)
	_ = w.store.Close()
	resp, b := w.do("GET", "/readyz", "", "")
	if resp.StatusCode != http.StatusServiceUnavailable || errorShape(t, "readyz", b) != "not_ready" {
		t.Errorf("readyz with the history closed: %d %s", resp.StatusCode, b)
	}
	resp, b = w.do("GET", "/api/v1/status", "Bearer "+readToken, "")
	if resp.StatusCode != http.StatusServiceUnavailable || errorShape(t, "status", b) != "history_unavailable" ||
		strings.Contains(string(b), "last_tick_error") || strings.Contains(string(b), "closed") {
		t.Errorf("status with the history closed: %d %s; want 503 history_unavailable, no tick error, not the cause", resp.StatusCode, b)
	}
	spec := loadSpec(t)
	spec.check(t, "GET", resp, b)
	// Every route that reads the history says the history is down, as a
	// 503 an uptime checker or a script can tell from a server bug.
	for _, tc := range []struct{ method, path, auth string }{
		{"GET", "/api/v1/runs", "Bearer " + readToken},
		{"GET", "/api/v1/runs/1", "Bearer " + readToken},
		{"GET", "/api/v1/queries", "Bearer " + readToken},
		{"GET", "/api/v1/queries/fresh_one", "Bearer " + readToken},
		{"GET", "/api/v1/dumps", "Bearer " + readToken},
		{"POST", "/api/v1/runs", "Bearer " + runToken},
	} {
		resp, b := w.do(tc.method, tc.path, tc.auth, "")
		if resp.StatusCode != http.StatusServiceUnavailable || errorShape(t, tc.path, b) != "history_unavailable" ||
			resp.Header.Get("Retry-After") == "" || strings.Contains(string(b), "closed") {
			t.Errorf("%s %s with the history closed: %d %s; want 503 history_unavailable with Retry-After, not the cause",
				tc.method, tc.path, resp.StatusCode, b)
		}
		spec.check(t, tc.method, resp, b)
	}
	// The page says so, in a page.
	resp, b = w.do("GET", "/", "Bearer "+readToken, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), "history database cannot be read") || strings.Contains(string(b), "closed") {
		t.Errorf("GET / with the history closed: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	spec.check(t, "GET", resp, b)
	if !strings.Contains(w.log.String(), `"level":"ERROR"`) {
		t.Errorf("the failure is not logged:\n%s", w.log)
	}
	w.checkNoSecrets()
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+"/api/v1/runs/0", nil)
	req.Header.Set(api.RequestIDHeader, "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.Header.Get(api.RequestIDHeader) != "abc-123" || !strings.Contains(string(b), `"request_id":"abc-123"`) {
		t.Errorf("a plain client id is kept: %v %s", resp.Header, b)
	}
	req.Header.Set(api.RequestIDHeader, "<script>"+strings.Repeat("x", 100))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if id := resp.Header.Get(api.RequestIDHeader); len(id) != 16 || strings.Contains(id, "<") {
		t.Errorf("a strange client id is replaced: %q", id)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, false)
	w.do("GET", "/healthz", "", "")
	resp, b := w.do("GET", "/metrics", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`metricgate_query_last_success_timestamp_seconds{query="fresh_one"} `,
		`metricgate_query_last_duration_seconds{query="fresh_one"} 90`,
		`metricgate_query_last_rows_loaded{query="fresh_one"} 120`,
		`metricgate_query_last_rows_suppressed{query="fresh_one"} 1`,
		`metricgate_query_last_cells_suppressed{query="fresh_one"} 10`,
		`metricgate_query_consecutive_failures{query="failing_one"} 2`,
		`metricgate_query_stale{query="stale_one"} 1`,
		`metricgate_query_stale{query="fresh_one"} 0`,
		`metricgate_query_last_status{query="failing_one",status="failed"} 1`,
		`metricgate_run_last_status{status="partial"} 1`,
		`metricgate_run_last_duration_seconds 120`,
		`metricgate_run_next_timestamp_seconds `,
		`metricgate_stale 1`,
		`metricgate_failing 1`,
		`metricgate_status_ok 0`,
		`metricgate_scheduler_tick_error 0`,
		`metricgate_http_requests_total{`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, false)
	// weekly_one failed, then recovered: it is fine now, not a failure
	// to list.
	w.record(w.now.Add(-30*time.Hour), map[string]history.QueryStatus{"weekly_one": history.QueryFailed})
	w.record(w.now.Add(-20*time.Hour), map[string]history.QueryStatus{"weekly_one": history.QuerySucceeded})
	resp, b := w.do("GET", "/", "", "")
	page := string(b)
	if i := strings.Index(page, `id="failures"`); i < 0 || !strings.Contains(page[i:], "failing_one") || strings.Contains(page[i:], "weekly_one") {
		t.Errorf("the failures list is not failing_one alone:\n%s", page[max(i, 0):])
	}
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, q := range []string{"fresh_one", "failing_one", "stale_one", "weekly_one", "new_one"} {
		if !strings.Contains(page, `data-query="`+q+`"`) {
			t.Errorf("page has no row for %s", q)
		}
	}
	for _, want := range []string{`data-query="failing_one" data-state="failing"`, `<svg class="chart"`, `class="fail"`,
		`column &#34;x&#34; does not exist`, `<polyline class="rows"`, "FAILING", `name="viewport"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}
}

// TestDumpStatusIncrements: the dump entry shows the mode of the newest
// dump and when the newest full dump and increment succeeded; with a
// 6h SLO (DumpFreshnessSLO, as serve sets it from dump.freshness_slo)
// an increment of an hour ago is fresh though the
// full dump is a day old, and one of seven hours ago is stale.
func TestDumpStatusIncrements(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, c := range []struct {
		incrementAgo time.Duration
		state        string
	}{{time.Hour, "ok"}, {7 * time.Hour, "stale"}} {
		h := newWorld(t, api.Config{Token: runToken, DumpFreshnessSLO: 6 * time.Hour}, true)
		for _, d := range []history.Dump{
			{Group: "gitlab-org", Status: history.DumpSucceeded, Kind: history.DumpFull, Location: "dumps/x/1/",
				StartedAt: h.now.Add(-25 * time.Hour), FinishedAt: h.now.Add(-24 * time.Hour)},
			{Group: "gitlab-org", Status: history.DumpSucceeded, Kind: history.DumpIncremental, Base: "dumps/x/1/", Location: "dumps/x/2/",
				StartedAt: h.now.Add(-c.incrementAgo - time.Minute), FinishedAt: h.now.Add(-c.incrementAgo)},
		} {
			if _, err := h.store.StartDump(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		h.api.Invalidate()
		_, b := h.do("GET", "/api/v1/status", "", "")
		var st api.Status
		if err := json.Unmarshal(b, &st); err != nil || len(st.Dumps) != 1 {
			t.Fatalf("status: %s (%v)", b, err)
		}
		d := st.Dumps[0]
		near := func(at *time.Time, want time.Time) bool { return at != nil && at.Sub(want).Abs() < time.Millisecond }
		if d.Mode != "incremental" || !near(d.LastFull, h.now.Add(-24*time.Hour)) || !near(d.LastIncrement, h.now.Add(-c.incrementAgo)) ||
			d.State != c.state || d.MaxAgeSeconds != (6*time.Hour).Seconds() {
			t.Errorf("increment %s ago: %+v, want mode incremental, last full 24h ago, state %s, max age 6h", c.incrementAgo, d, c.state)
		}
	}
}

// TestTickErrorEverywhere: a scheduler whose tick's run cannot start (its
// history database is gone) shows it in the status (last_tick_error, a
// problem, 503), in /metrics (metricgate_scheduler_tick_error 1), and, when
// the API cannot read the history either, in the 503 error of the status;
// no secret in any of them.
func TestTickErrorEverywhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken, CacheTTL: -1}, true)
	spec := loadSpec(t)
	gone, err := history.Open(t.Context(), w.dsn) // the DSN carries dbPassword
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close()
	broken, err := runner.NewScheduler(runner.SchedulerConfig{RetryBackoff: time.Hour}, runner.SchedulerDeps{Runner: w.run, Store: gone,
		Logger: slog.New(slog.NewJSONHandler(w.log, nil)),
		Plan:   func(context.Context, []string, bool, time.Time) (runner.Options, error) { return runner.Options{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	broken.Start(context.Background()) // the catch-up decision: cannot take the run lock
	t.Cleanup(func() {
		if err := broken.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	poll, deadline := time.NewTicker(5*time.Millisecond), time.After(10*time.Second)
	defer poll.Stop()
	for _, ok := broken.TickError(); !ok; _, ok = broken.TickError() {
		select {
		case <-poll.C:
		case <-deadline:
			t.Fatal("the scheduler reports no tick error 10s after starting on a closed history")
		}
	}
	w.runs = broken
	w.start()
	tick := broken.Schedule().Next(start.Add(-25 * time.Hour)).UTC() // the newest 04:00 before start
	for broken.Schedule().Next(tick).Before(start) {
		tick = broken.Schedule().Next(tick).UTC()
	}

	resp, b := w.do("GET", "/api/v1/status", "", "")
	spec.check(t, "GET", resp, b)
	var st api.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	te := st.LastTickError
	if resp.StatusCode != http.StatusServiceUnavailable || st.State != api.StateFailing || te == nil {
		t.Fatalf("status with a tick error: %d %s, tick error %+v; want 503 failing with it", resp.StatusCode, st.State, te)
	}
	if !te.Tick.Equal(tick) || te.Attempts != 1 || te.Error == "" || te.At.Before(start.Add(-time.Second)) ||
		!te.RetryAt.Equal(te.At.Add(time.Hour)) {
		t.Errorf("last_tick_error %+v; want the %s tick, 1 attempt, its error, retried an hour after", te, tick)
	}
	if !slicesContain(st.Problems, "the run of the "+tick.Format(time.RFC3339)+" tick could not start (1 attempts)") {
		t.Errorf("problems %q do not say the tick's run could not start", st.Problems)
	}
	_, b = w.do("GET", "/metrics", "", "")
	if !strings.Contains(string(b), "\nmetricgate_scheduler_tick_error 1\n") {
		t.Errorf("metrics lack metricgate_scheduler_tick_error 1:\n%s", b)
	}

	// The API's history goes too: the status is a 503 error that still
	// says why the tick's run could not start; the gauge stays.
	_ = w.store.Close()
	resp, b = w.do("GET", "/api/v1/status", "", "")
	spec.check(t, "GET", resp, b)
	var e struct {
		Error struct {
			Code          string         `json:"code"`
			Message       string         `json:"message"`
			LastTickError *api.TickError `json:"last_tick_error"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "history_unavailable" ||
		!strings.Contains(e.Error.Message, "the history database cannot be read") || !strings.Contains(e.Error.Message, "tick could not start") ||
		e.Error.LastTickError == nil || !e.Error.LastTickError.Tick.Equal(tick) || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status with both histories gone: %d %v %s; want 503 history_unavailable with the tick error", resp.StatusCode, resp.Header, b)
	}
	_, b = w.do("GET", "/metrics", "", "")
	for _, want := range []string{"\nmetricgate_scheduler_tick_error 1\n", "\nmetricgate_history_scrape_error 1\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics with the history gone lack %q", strings.TrimSpace(want))
		}
	}
	w.checkNoSecrets()
}

// TestLoadIsAsFreshAsItsDump: the load of a dump holds the dump's data,
// so the status measures both the same way, by the age of the data. The
// load used to be measured from the dump's snapshot and the dump from
// when it finished: a dump of a 36-day-old backup was "ok" and its load,
// one second later, "stale 36 days".
func TestLoadIsAsFreshAsItsDump(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, snapshotAgo := range []time.Duration{time.Hour, 36 * 24 * time.Hour} {
		w := newWorld(t, api.Config{Token: runToken}, true)
		snapshot := w.now.Add(-snapshotAgo).Truncate(time.Microsecond)
		finished := w.now.Add(-2 * time.Second)
		if _, err := w.store.StartDump(ctx, history.Dump{Group: "gitlab-org", Status: history.DumpSucceeded, Kind: history.DumpFull,
			Location: "dumps/x/1/", SnapshotTime: snapshot, StartedAt: finished.Add(-time.Minute), FinishedAt: finished}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.StartDumpLoad(ctx, history.DumpLoad{Location: "dumps/x/1/", Status: history.DumpSucceeded, Kind: history.DumpFull,
			SnapshotTime: snapshot, StartedAt: finished, FinishedAt: finished.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		w.api.Invalidate()
		_, b := w.do("GET", "/api/v1/status", "", "")
		var st api.Status
		if err := json.Unmarshal(b, &st); err != nil || len(st.Dumps) != 2 {
			t.Fatalf("status: %s (%v)", b, err)
		}
		d, l := st.Dumps[0], st.Dumps[1]
		if d.Kind != "dump" || l.Kind != "load" {
			t.Fatalf("dumps %+v", st.Dumps)
		}
		if d.State != l.State || d.Stale != l.Stale || d.DataAsOf == nil || l.DataAsOf == nil || !d.DataAsOf.Equal(*l.DataAsOf) ||
			math.Abs(d.AgeSeconds-l.AgeSeconds) > 1 {
			t.Errorf("snapshot %s old: dump %s (age %.0fs, as of %v), load %s (age %.0fs, as of %v): want the same",
				snapshotAgo, d.State, d.AgeSeconds, d.DataAsOf, l.State, l.AgeSeconds, l.DataAsOf)
		}
		if want := snapshotAgo > 27*time.Hour; l.Stale != want || math.Abs(l.AgeSeconds-snapshotAgo.Seconds()) > 5 {
			t.Errorf("snapshot %s old: the load's age %.0fs stale %v, want the snapshot's age, stale %v", snapshotAgo, l.AgeSeconds, l.Stale, want)
		}
		if l.LastSuccess == nil || w.now.Sub(*l.LastSuccess) > time.Minute {
			t.Errorf("the load's last success %v, want when it finished, a second ago", l.LastSuccess)
		}
	}
}

// TestDataAgeAndAttainment: freshness is the age of the data, so a load
// of a stale backup makes the query stale at once, and the SLO attainment
// over the window is the share of time its data was within the objective;
// the status, the page and /metrics show both.
func TestDataAgeAndAttainment(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(t, api.Config{Token: runToken, CacheTTL: -1, SLOWindow: 10 * 24 * time.Hour}, true)
	var err error
	w.cat, err = catalog.Load(fstest.MapFS{"a/daily_one.sql": file("daily numbers"), "a/backup_one.sql": file("from an old backup")}, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	record := func(query string, at, asOf time.Time) {
		t.Helper()
		id, err := w.store.StartRun(ctx, history.Run{Trigger: "schedule", Approval: "none", Status: history.RunRunning, StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.StartQueryRun(ctx, history.QueryRun{RunID: id, Query: query, Target: query, Source: "main",
			Status: history.QuerySucceeded, Attempts: 1, Approval: "none", StartedAt: at, FinishedAt: at.Add(time.Minute),
			SnapshotTime: asOf, Duration: time.Minute, SHA256: "abc"}); err != nil {
			t.Fatal(err)
		}
		if err := w.store.FinishRun(ctx, id, history.RunSucceeded, "", at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// daily_one: loaded every day for 12 days but the 5th-newest, each
	// time from a snapshot 2h old.
	var loads []schedule.Load
	for i := 12; i >= 1; i-- {
		if i == 5 {
			continue
		}
		at := w.now.Add(-time.Duration(i)*day + time.Hour).Truncate(time.Microsecond)
		record("daily_one", at, at.Add(-2*time.Hour))
		loads = append(loads, schedule.Load{Done: at.Add(time.Minute), AsOf: at.Add(-2 * time.Hour)})
	}
	// backup_one: loaded a minute ago from a backup 30 hours old.
	at := w.now.Add(-2 * time.Minute)
	record("backup_one", at, at.Add(-30*time.Hour))
	w.start()

	_, b := w.do("GET", "/api/v1/status", "", "")
	var st api.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	qs := map[string]api.QueryStatus{}
	for _, q := range st.Queries {
		qs[q.Name] = q
	}
	if q := qs["backup_one"]; !q.Stale || q.AgeSeconds < 30*3600 || !strings.Contains(q.Reason, "data 30h") {
		t.Errorf("a load of a 30-hour-old backup: stale %v, age %.0fs, reason %q; want stale at once", q.Stale, q.AgeSeconds, q.Reason)
	}
	q := qs["daily_one"]
	want, ok := schedule.Attainment(loads, 27*time.Hour, w.now.Add(-10*day), w.now)
	if !ok || want >= 0.99 || want <= 0.5 {
		t.Fatalf("the expected attainment %v %v is not what the test means", want, ok)
	}
	if q.SLOAttainment == nil || math.Abs(*q.SLOAttainment-want) > 0.001 || len(q.Sources) != 1 || q.Sources[0].SLOAttainment == nil {
		t.Errorf("daily_one: attainment %v, want %.4f (one day missed in the window)", q.SLOAttainment, want)
	}
	if q.Stale || q.AgeSeconds < 24*3600 || q.AgeSeconds > 26*3600 || st.SLOWindowSeconds != (10*day).Seconds() {
		t.Errorf("daily_one: stale %v age %.0fs, window %.0fs", q.Stale, q.AgeSeconds, st.SLOWindowSeconds)
	}
	_, m := w.do("GET", "/metrics", "", "")
	for _, re := range []string{
		`metricgate_data_age_seconds\{kind="query",name="backup_one",source="main"\} 108\d\d\d`,
		`metricgate_slo_attainment_ratio\{kind="query",name="daily_one",source="main"\} 0\.9`,
		`metricgate_slo_objective_seconds\{kind="query",name="daily_one"\} 97200`,
		`metricgate_slo_window_seconds 864000`,
	} {
		if !regexp.MustCompile(re).Match(m) {
			t.Errorf("metrics lack %s", re)
		}
	}
	_, page := w.do("GET", "/", "", "")
	if !regexp.MustCompile(`SLO 9\d\.\d%`).Match(page) {
		t.Errorf("the page does not show the attainment")
	}
}

// TestAttainmentSeesANewLoadAtOnce: the successes over the SLO window are
// kept for a minute, but the newest one is read at every computation, so
// a load made after the status was computed counts at the next one.
func TestAttainmentSeesANewLoadAtOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w := newWorld(t, api.Config{Token: runToken, SLOWindow: 4 * 24 * time.Hour}, true)
	var err error
	w.cat, err = catalog.Load(fstest.MapFS{"a/late_one.sql": file("late numbers")}, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	record := func(at time.Time) {
		t.Helper()
		id, err := w.store.StartRun(ctx, history.Run{Trigger: "api", Approval: "none", Status: history.RunRunning, StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.StartQueryRun(ctx, history.QueryRun{RunID: id, Query: "late_one", Target: "late_one", Source: "main",
			Status: history.QuerySucceeded, Attempts: 1, Approval: "none", StartedAt: at, FinishedAt: at, SnapshotTime: at}); err != nil {
			t.Fatal(err)
		}
	}
	record(w.now.Add(-4 * 24 * time.Hour)) // stale from 27h later on
	w.start()
	attainment := func() float64 {
		t.Helper()
		w.api.Invalidate()
		_, b := w.do("GET", "/api/v1/queries/late_one", "", "")
		var q struct {
			Query api.QueryStatus `json:"query"`
		}
		if err := json.Unmarshal(b, &q); err != nil || q.Query.SLOAttainment == nil {
			t.Fatalf("late_one: %s (%v)", b, err)
		}
		return *q.Query.SLOAttainment
	}
	before := attainment()
	record(w.now.Add(-24 * time.Hour))
	after := attainment()
	if before > 0.3 || after < before+0.2 {
		t.Errorf("attainment %.3f before a load a day ago, %.3f after: want the load counted at once", before, after)
	}
}
