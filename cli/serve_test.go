package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/runner"
)

const (
	testRunToken  = "run-token-must-not-leak-1234"
	testReadToken = "read-token-must-not-leak-5678"
)

// logWatch is serve's stderr: it keeps every line and lets a test wait
// for a line containing a string.
type logWatch struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []*logWaiter
}

type logWaiter struct {
	substr string
	n      int
	ch     chan string
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.check()
	return len(p), nil
}

func (l *logWatch) check() {
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if lines := l.matching(w.substr); len(lines) >= w.n {
			w.ch <- lines[w.n-1]
			continue
		}
		kept = append(kept, w)
	}
	l.waiters = kept
}

func (l *logWatch) matching(substr string) []string {
	var out []string
	for line := range strings.SplitSeq(l.buf.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// wait returns the n-th line containing substr, once it is written.
func (l *logWatch) wait(t *testing.T, substr string, n int) string {
	t.Helper()
	w := &logWaiter{substr: substr, n: n, ch: make(chan string, 1)}
	l.mu.Lock()
	l.waiters = append(l.waiters, w)
	l.check()
	l.mu.Unlock()
	select {
	case line := <-w.ch:
		return line
	case <-time.After(3 * time.Minute):
		t.Fatalf("no log line %d with %q in:\n%s", n, substr, l.String())
		return ""
	}
}

// waitChan is wait for a select: the channel gets the first line with
// substr.
func waitChan(l *logWatch, substr string) <-chan string {
	w := &logWaiter{substr: substr, n: 1, ch: make(chan string, 1)}
	l.mu.Lock()
	l.waiters = append(l.waiters, w)
	l.check()
	l.mu.Unlock()
	return w.ch
}

func (l *logWatch) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serving is a metricgate serve running in the background.
type serving struct {
	t      *testing.T
	log    *logWatch
	addr   string
	cancel context.CancelFunc
	code   chan int
}

func startServe(t *testing.T, config string, args ...string) *serving {
	t.Helper()
	s := launchServe(t, config, args...)
	s.ready()
	return s
}

// launchServe starts serve without waiting for it to serve.
func launchServe(t *testing.T, config string, args ...string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{t: t, log: &logWatch{}, cancel: cancel, code: make(chan int, 1)}
	go func() {
		s.code <- run(ctx, append([]string{"serve", "--config", config}, args...), &env{stdout: io.Discard, stderr: s.log})
	}()
	t.Cleanup(func() {
		cancel()
		code := <-s.code
		s.code <- code
	})
	return s
}

// ready waits until serve serves, and learns its address.
func (s *serving) ready() {
	s.t.Helper()
	var line struct{ Addr string }
	if err := json.Unmarshal([]byte(s.log.wait(s.t, `"msg":"serving"`, 1)), &line); err != nil {
		s.t.Fatal(err)
	}
	s.addr = "http://" + line.Addr
}

// stop is SIGTERM: main cancels the context on it.
func (s *serving) stop() int {
	s.t.Helper()
	s.cancel()
	select {
	case code := <-s.code:
		s.code <- code
		return code
	case <-time.After(2 * time.Minute):
		s.t.Fatal("serve did not stop")
		return -1
	}
}

func (s *serving) do(method, path, token, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.addr+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	var hdr bytes.Buffer
	_ = resp.Header.Write(&hdr)
	for _, secret := range []string{testPassword, testRunToken, testReadToken} {
		if strings.Contains(hdr.String()+string(b), secret) {
			s.t.Errorf("%s %s shows the secret %q:\n%s", method, path, secret, b)
		}
	}
	return resp.StatusCode, string(b)
}

// withAPI adds an api section to a run world's config.
func withAPI(t *testing.T, w *runWorld, api string) {
	t.Helper()
	b, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.config, append(b, []byte("api:\n  listen: 127.0.0.1:0\n"+api)...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/top_text.sql": textAggregate})
	withAPI(t, w, "  token: "+testRunToken+"\n  read_token: "+testReadToken+"\n")
	s := startServe(t, w.config)
	// An empty history: the first tick is caught up at start.
	s.log.wait(t, `"msg":"run lock released"`, 1)

	code, body := s.do("GET", "/api/v1/status", testReadToken, "")
	var st struct {
		State   string `json:"state"`
		Queries []struct {
			Name, State string
		} `json:"queries"`
		LastRun struct{ Trigger string } `json:"last_run"`
		Config  []struct{ Key, Value string }
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if code != 503 || st.State != "failing" || len(st.Queries) != 2 || st.Queries[0].State != "ok" ||
		st.Queries[1].State != "failing" || st.LastRun.Trigger != "catch-up" {
		t.Errorf("status %d: %s", code, body)
	}
	if !strings.Contains(body, `"key":"history","value":"postgres://`) || !strings.Contains(body, `"key":"api.token","value":"set"`) {
		t.Errorf("status config: %s", body)
	}
	if code, _ := s.do("GET", "/api/v1/status", "", ""); code != 401 {
		t.Errorf("status without the read token: %d", code)
	}
	if code, _ := s.do("GET", "/healthz", "", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}

	code, body = s.do("POST", "/api/v1/runs", testRunToken, `{"queries": ["actors"]}`)
	if code != 202 || !strings.Contains(body, `"run_id":2`) {
		t.Fatalf("POST /api/v1/runs: %d %s", code, body)
	}
	s.log.wait(t, `"msg":"run finished"`, 2)
	code, body = s.do("GET", "/api/v1/runs/2", testReadToken, "")
	if code != 200 || !strings.Contains(body, `"status":"succeeded"`) || !strings.Contains(body, `"trigger":"api"`) ||
		!strings.Contains(body, `"query":"actors"`) || strings.Contains(body, `"query":"top_text"`) {
		t.Errorf("run 2: %d %s", code, body)
	}
	for _, path := range []string{"/", "/metrics", "/api/v1/runs", "/api/v1/queries", "/api/v1/queries/actors", "/api/v1/dumps", "/readyz"} {
		if code, body := s.do("GET", path, testReadToken, ""); code >= 500 && path != "/" {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}

	if code := s.stop(); code != ExitOK {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
	logs := s.log.String()
	for _, secret := range []string{testPassword, testRunToken, testReadToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("a log line shows the secret %q", secret)
		}
	}
	// JSON lines, one per query run with typed attributes.
	var perQuery int
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON log line: %s", line)
			continue
		}
		if rec["msg"] == "query succeeded" && rec["query"] == "actors" {
			perQuery++
			if rec["rows"] != float64(11) || rec["suppressed"] != "1-9" || rec["run_id"] == nil || rec["duration"] == nil {
				t.Errorf("query line lacks typed attributes: %s", line)
			}
		}
	}
	if perQuery != 2 {
		t.Errorf("%d log lines of actors succeeding, want 2 (one per run)", perQuery)
	}
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("no stop line:\n%s", logs)
	}
}

func TestServeRefusesToStartWithoutAToken(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery})
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"serve", "--config", w.config}, &env{stdout: &out, stderr: &errOut})
	if code != ExitUsage || !strings.Contains(errOut.String(), "api.token is not set") ||
		!strings.Contains(errOut.String(), "api.allow_unauthenticated_runs: true") {
		t.Errorf("serve without api.token: exit %d: %s", code, errOut.String())
	}
}

// TestServeSIGTERMDuringARun stops serve while a run's query is running:
// the query is cancelled at the shutdown timeout and recorded as such, the
// run records its outcome, serve exits 0, and nothing is logged as an
// error.
func TestServeSIGTERMDuringARun(t *testing.T) {
	t.Parallel()
	slow := "-- description: slow\n-- owner: @pm\n-- group_size: actors\n" +
		"SELECT a.k, count(*) AS actors FROM events a, events b, events c, events d, events e GROUP BY a.k\n"
	w := newRunWorld(t, map[string]string{"a/a_slow.sql": slow, "b/actors.sql": goodQuery})
	withAPI(t, w, "  allow_unauthenticated_runs: true\n")
	b, _ := os.ReadFile(w.config)
	// One worker; and a max_cost above the cartesian join, which is meant
	// to run until it is cancelled (the default 1e9 would refuse it).
	conf := strings.Replace(string(b), "  approval: none\n", "  approval: none\n  workers: 1\n", 1)
	conf = strings.Replace(conf, "\nhistory:\n", "\n    max_cost: 1e18\nhistory:\n", 1)
	if err := os.WriteFile(w.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, w.config, "--shutdown-timeout", "300ms")
	s.log.wait(t, `"msg":"snapshot exported"`, 1) // the catch-up run is on its way
	start := time.Now()
	if code := s.stop(); code != ExitOK {
		t.Errorf("exit %d", code)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("shutdown took %s", took)
	}
	logs := s.log.String()
	if strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("shutdown logged errors:\n%s", logs)
	}

	cfg, err := loadConfig(w.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := history.Open(t.Context(), cfg.History.URL.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	runs, err := store.Runs(t.Context(), 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	if runs[0].Status != history.RunFailed || !strings.Contains(runs[0].Error, runner.CancelledByShutdown) || runs[0].FinishedAt.IsZero() {
		t.Errorf("run: %+v", runs[0])
	}
	qrs, err := store.QueryRuns(t.Context(), runs[0].ID)
	if err != nil || len(qrs) != 2 {
		t.Fatalf("query runs %+v, %v", qrs, err)
	}
	for _, q := range qrs {
		if q.Status != history.QueryFailed || q.Error != runner.CancelledByShutdown {
			t.Errorf("query %s: %s %q", q.Query, q.Status, q.Error)
		}
	}
}

// TestServeTwoReplicas starts two serve processes on one history database
// at once: the missed tick is caught up once, by one of them; the other
// waits for the run lock or finds the run made.
func TestServeTwoReplicas(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery})
	withAPI(t, w, "  token: "+testRunToken+"\n")
	a, b := launchServe(t, w.config), launchServe(t, w.config)
	a.ready()
	b.ready()
	both := func() string { return a.log.String() + b.log.String() }
	// One of them makes the catch-up run; wait for its end in either log.
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-waitChan(a.log, `"msg":"run finished"`):
		case <-waitChan(b.log, `"msg":"run finished"`):
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no run finished:\n%s", both())
	}
	if a.stop() != ExitOK || b.stop() != ExitOK {
		t.Error("a replica did not exit 0")
	}
	cfg, err := loadConfig(w.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := history.Open(t.Context(), cfg.History.URL.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	runs, err := store.Runs(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	catchUps := 0
	for _, r := range runs {
		if r.Trigger == runner.TriggerCatchUp {
			catchUps++
		}
		if r.Status == history.RunRunning || (r.Status == history.RunFailed && strings.HasPrefix(r.Error, "abandoned")) {
			t.Errorf("run %d: %s %q: a replica abandoned the other's run", r.ID, r.Status, r.Error)
		}
	}
	if catchUps != 1 {
		t.Errorf("%d catch-up runs by two replicas, want 1: %+v", catchUps, runs)
	}
	logs := both()
	if !strings.Contains(logs, "no catch-up needed") && !strings.Contains(logs, "run skipped: another replica holds the run lock") {
		t.Errorf("neither replica says it left the catch-up to the other:\n%s", logs)
	}
}

func TestDisplayURLHidesPasswords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://mg:" + testPassword + "@db.internal:5432/history?sslmode=require", "postgres://mg:xxxxx@db.internal:5432/history"},
		{"postgres://db.internal/history?password=" + testPassword, "postgres://db.internal/history"},
		{"host=db.internal password=" + testPassword + " dbname=history", "(connection string not shown)"},
		{"duckdb:///var/lib/metricgate/w.duckdb", "duckdb:///var/lib/metricgate/w.duckdb"},
		{"snowflake://user:" + testPassword + "@acct/db/schema?warehouse=wh", "snowflake://user:xxxxx@acct/db/schema"},
	} {
		if got := displayURL(tc.in); got != tc.want {
			t.Errorf("displayURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// flakyProxy forwards TCP connections to addr while up, and closes them
// at once while down: a database that cannot be reached.
type flakyProxy struct {
	ln   net.Listener
	addr string
	up   atomic.Bool
}

func newFlakyProxy(t *testing.T, addr string) *flakyProxy {
	t.Helper()
	ln, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, addr: addr}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.up.Load() {
				_ = c.Close()
				continue
			}
			go func() {
				defer func() { _ = c.Close() }()
				b, err := new(net.Dialer).DialContext(context.Background(), "tcp", p.addr)
				if err != nil {
					return
				}
				defer func() { _ = b.Close() }()
				go func() { _, _ = io.Copy(b, c); _ = b.Close() }()
				_, _ = io.Copy(c, b)
			}()
		}
	}()
	return p
}

// TestServeWaitsForTheHistoryAtStart: serve started while the history
// database cannot be reached does not exit: it says so, tries again (as
// its scheduler does later), answers /healthz 200 and /readyz 503
// meanwhile, and serves once the database answers.
func TestServeWaitsForTheHistoryAtStart(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery})
	withAPI(t, w, "  allow_unauthenticated_runs: true\n")
	u, err := url.Parse(w.history)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFlakyProxy(t, u.Host)
	b, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	hostPort := proxy.ln.Addr().String()
	config := strings.ReplaceAll(string(b), "@"+u.Host+"/", "@"+hostPort+"/")
	if config == string(b) {
		t.Fatalf("the history URL is not in the config:\n%s", b)
	}
	if err := os.WriteFile(w.config, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	s := launchServe(t, w.config)
	var line struct{ Addr string }
	if err := json.Unmarshal([]byte(s.log.wait(t, `"msg":"listening"`, 1)), &line); err != nil {
		t.Fatal(err)
	}
	s.addr = "http://" + line.Addr
	select {
	case <-waitChan(s.log, "the history database cannot be used yet; trying again"):
	case code := <-s.code:
		s.code <- code
		t.Fatalf("serve exited %d with the history down:\n%s", code, s.log)
	case <-time.After(time.Minute):
		t.Fatalf("no retry logged:\n%s", s.log)
	}
	if code, body := s.do("GET", "/readyz", "", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "waiting for the history database") {
		t.Errorf("readyz while the history is down: %d %s", code, body)
	}
	if code, _ := s.do("GET", "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("healthz while the history is down: %d", code)
	}
	if strings.Contains(s.log.String(), testPassword) {
		t.Errorf("a log line shows the password:\n%s", s.log)
	}
	proxy.up.Store(true)
	select {
	case <-waitChan(s.log, `"msg":"serving"`):
	case code := <-s.code:
		s.code <- code
		t.Fatalf("serve exited %d:\n%s", code, s.log)
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not start once the history was up:\n%s", s.log)
	}
	if code, body := s.do("GET", "/readyz", "", ""); code != http.StatusOK {
		t.Errorf("readyz once the history is up: %d %s", code, body)
	}
	if code := s.stop(); code != ExitOK {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
}
