package api_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/api"
)

// The abuse tests: what a hostile or broken client can send, and that the
// API answers each in the JSON error shape, with the right status, without
// a file read, a 500, a secret or a stack trace.

// checkClean fails when a response shows a stack trace or internals.
func (w *world) checkClean() {
	w.t.Helper()
	w.checkNoSecrets()
	w.bodyMu.Lock()
	defer w.bodyMu.Unlock()
	for _, b := range w.bodies {
		if strings.HasPrefix(b, "GET /metrics\n") {
			continue // Go runtime metrics' help texts name runtime/debug
		}
		for _, bad := range []string{"goroutine ", ".go:", "panic", "runtime/debug", "root:", "/etc/passwd:"} {
			if strings.Contains(b, bad) {
				w.t.Errorf("a response shows %q:\n%.2000s", bad, b)
			}
		}
	}
}

func TestAbuseOversizedBodies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	bearer := "Bearer " + runToken
	names := `{"queries": [` + strings.Repeat(`"fresh_one", `, 7000) + `"fresh_one"]}` // 64 KiB + a bit
	for _, tc := range []struct {
		name, body string
		code       int
		errCode    string
	}{
		{"a megabyte of JSON", `{"queries": ["` + strings.Repeat("x", 1<<20) + `"]}`, 413, "too_large"},
		{"just over the limit", names, 413, "too_large"},
		{"not JSON", strings.Repeat("\x00\xff", 100), 400, "bad_request"},
		{"two objects", `{"queries": ["fresh_one"]} {"queries": ["new_one"]}`, 400, "bad_request"},
		{"trailing data", `{"queries": ["fresh_one"]} DROP TABLE runs`, 400, "bad_request"},
		{"an array", `["fresh_one"]`, 400, "bad_request"},
		{"names that are not strings", `{"queries": [1, {"a": 2}]}`, 400, "bad_request"},
		{"deep JSON", strings.Repeat(`{"queries": `, 5000), 400, "bad_request"},
		{"a long unknown name", `{"queries": ["` + strings.Repeat("q", 10000) + `"]}`, 400, "unknown_query"},
		{"a traversal name", `{"queries": ["../../etc/passwd"]}`, 400, "unknown_query"},
	} {
		resp, b := w.do("POST", "/api/v1/runs", bearer, tc.body)
		if resp.StatusCode != tc.code || errorShape(t, tc.name, b) != tc.errCode {
			t.Errorf("%s: %d %.300s, want %d %s", tc.name, resp.StatusCode, b, tc.code, tc.errCode)
		}
		if len(b) > 2000 {
			t.Errorf("%s: a %d-byte answer echoes the request", tc.name, len(b))
		}
	}

	// A body without a length (chunked) is cut at the limit as well.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, w.srv.URL+"/api/v1/runs", io.MultiReader(
		strings.NewReader(`{"queries": ["`), strings.NewReader(strings.Repeat("y", 100<<10)), strings.NewReader(`"]}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || errorShape(t, "chunked", b) != "too_large" {
		t.Errorf("chunked body of 100 KiB: %d %s", resp.StatusCode, b)
	}

	// Unauthenticated, a huge body is refused before it is read.
	resp2, b2 := w.do("POST", "/api/v1/runs", "", strings.Repeat("z", 1<<20))
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated 1 MiB body: %d %s", resp2.StatusCode, b2)
	}
	w.checkClean()
}

func TestAbuseWrongMethods(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/runs", "GET, POST"},
		{"PUT", "/api/v1/runs", "GET, POST"},
		{"PATCH", "/api/v1/runs/1", "GET"},
		{"POST", "/api/v1/status", "GET"},
		{"DELETE", "/api/v1/queries/fresh_one", "GET"},
		{"POST", "/metrics", "GET"},
		{"PUT", "/", "GET"},
		{"POST", "/healthz", "GET"},
		{"OPTIONS", "/api/v1/runs", "GET, POST"},
		{"TRACE", "/api/v1/status", "GET"},
		{"BREW", "/api/v1/status", "GET"},
	} {
		resp, b := w.do(tc.method, tc.path, "Bearer "+runToken, "")
		what := tc.method + " " + tc.path
		if resp.StatusCode != http.StatusMethodNotAllowed || errorShape(t, what, b) != "method_not_allowed" {
			t.Errorf("%s: %d %s, want 405", what, resp.StatusCode, b)
		}
		if got := resp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s: Allow %q, want %q", what, got, tc.allow)
		}
	}
	// Made-up methods do not become metric labels.
	for i := range 20 {
		w.do(fmt.Sprintf("X-%d", i), "/api/v1/status", "", "")
	}
	_, b := w.do("GET", "/metrics", "", "")
	if strings.Contains(string(b), `method="X-`) || strings.Contains(string(b), `method="BREW"`) ||
		!strings.Contains(string(b), `method="other"`) {
		t.Errorf("/metrics labels made-up methods:\n%s", grepLines(string(b), "metricgate_http_requests_total"))
	}
	w.checkClean()
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestAbusePathsAndNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	long := strings.Repeat("a", 8000)
	for _, tc := range []struct {
		path    string
		code    int
		errCode string
	}{
		{"/api/v1/queries/..%2f..%2f..%2fetc%2fpasswd", 404, "not_found"},
		{"/api/v1/queries/..%252f..%252fetc%252fpasswd", 404, "not_found"},
		{"/api/v1/queries/%2e%2e", 404, "not_found"},
		{"/api/v1/queries/..", 404, "not_found"},
		{"/api/v1/queries/../../../etc/passwd", 404, "not_found"},
		{"/api/v1/queries/fresh_one%00.sql", 404, "not_found"},
		{"/api/v1/queries/%00", 404, "not_found"},
		{"/api/v1/queries/fresh_one%0d%0aSet-Cookie:%20a=b", 404, "not_found"},
		{"/api/v1/queries/" + long, 404, "not_found"},
		{"/api/v1/queries/%C0%AE%C0%AE", 404, "not_found"},
		{"/api/v1/queries/fresh_one?limit=0", 400, "bad_request"},
		{"/api/v1/queries/fresh_one?limit=%27%20OR%201=1", 400, "bad_request"},
		// net/http drops a pair with a semicolon: the default limit.
		{"/api/v1/queries/fresh_one?limit=1;DROP", 200, ""},
		{"/api/v1/queries/fresh_one?limit=%00", 400, "bad_request"},
		{"/api/v1/runs/abc", 404, "not_found"},
		{"/api/v1/runs/0", 404, "not_found"},
		{"/api/v1/runs/-1", 404, "not_found"},
		{"/api/v1/runs/1e3", 404, "not_found"},
		{"/api/v1/runs/99999999999999999999999", 404, "not_found"},
		{"/api/v1/runs/1%2f..%2f..", 404, "not_found"},
		{"/api/v1/runs/%00", 404, "not_found"},
		{"/api/v1/runs/" + long, 404, "not_found"},
		{"/api/v1/runs?limit=99999999999999999999", 400, "bad_request"},
		{"/api/v1/runs?limit=1%27%20OR%20%271%27=%271", 400, "bad_request"},
		{"/api/v1/dumps?limit=-5", 400, "bad_request"},
		{"/api/v1/../../etc/passwd", 404, "not_found"},
		{"/static/../../etc/passwd", 404, "not_found"},
		{"/api/v1/status/", 404, "not_found"},
		{"//api/v1/status", 404, "not_found"},
		{"/nope%0d%0aSet-Cookie:%20a=b", 404, "not_found"},
	} {
		resp, b := w.do("GET", tc.path, "", "")
		what := "GET " + tc.path
		if len(what) > 80 {
			what = what[:80] + "…"
		}
		if resp.StatusCode != tc.code || tc.errCode != "" && errorShape(t, what, b) != tc.errCode {
			t.Errorf("%s: %d %.300s, want %d %s", what, resp.StatusCode, b, tc.code, tc.errCode)
		}
		if resp.Header.Get("Set-Cookie") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: headers %v", what, resp.Header)
		}
		if tc.errCode != "" && len(b) > 1000 {
			t.Errorf("%s: a %d-byte answer echoes the request", what, len(b))
		}
	}
	// The good ones still answer.
	for _, p := range []string{"/api/v1/queries/fresh_one", "/api/v1/runs/1"} {
		if resp, b := w.do("GET", p, "", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, b)
		}
	}
	if strings.Contains(w.log.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", w.log)
	}
	w.checkClean()
}

func TestAbuseTokens(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken, ReadToken: readToken}, true)
	basic := func(user, pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}
	flip := func(s string, i int) string { b := []byte(s); b[i] ^= 1; return string(b) }
	ok := []int{202, 409} // accepted: the first starts a run, the others find it running
	for _, tc := range []struct {
		name, auth string
		codes      []int
	}{
		{"none", "", []int{401}},
		{"empty bearer", "Bearer ", []int{401}},
		{"bearer without a token", "Bearer", []int{401}},
		{"another scheme", "Token " + runToken, []int{401}},
		{"basic auth", basic("x", runToken), []int{401}},
		{"the token alone", runToken, []int{401}},
		{"tab instead of a space", "Bearer\t" + runToken, []int{401}},
		{"first byte differs", "Bearer " + flip(runToken, 0), []int{403}},
		{"last byte differs", "Bearer " + flip(runToken, len(runToken)-1), []int{403}},
		{"one byte short", "Bearer " + runToken[:len(runToken)-1], []int{403}},
		{"one byte more", "Bearer " + runToken + "x", []int{403}},
		{"a prefix of it", "Bearer " + runToken[:4], []int{403}},
		{"the read token", "Bearer " + readToken, []int{403}},
		{"upper-case token", "Bearer " + strings.ToUpper(runToken), []int{403}},
		{"token with a NUL", "Bearer " + runToken + "\x00", []int{400}}, // net/http refuses the header
		{"bearer", "Bearer " + runToken, ok},
		{"lower-case scheme", "bearer " + runToken, ok},
		{"upper-case scheme", "BEARER " + runToken, ok},
		{"extra spaces", "Bearer    " + runToken + "   ", ok},
	} {
		resp, b := w.doRaw("POST", "/api/v1/runs", tc.auth, "")
		if !contains(tc.codes, resp.StatusCode) {
			t.Errorf("POST with %s: %d %s, want one of %v", tc.name, resp.StatusCode, b, tc.codes)
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("POST with %s: 401 without WWW-Authenticate", tc.name)
		}
		if resp.StatusCode > 400 {
			errorShape(t, "POST with "+tc.name, b)
		}
	}

	// The token in the query string or a cookie is not a credential (asked
	// outside w.do, which would record the token in the request line).
	for _, path := range []string{"/api/v1/runs?access_token=" + runToken, "/api/v1/runs?token=" + runToken} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, w.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: "token", Value: runToken})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), runToken) {
			t.Errorf("POST with the token in the query string and a cookie: %d %s", resp.StatusCode, b)
		}
	}

	// The read routes: the read token (bearer or basic password) or the
	// run token; nothing else.
	for _, tc := range []struct {
		name, auth string
		code       int
	}{
		{"none", "", 401},
		{"wrong", "Bearer " + flip(readToken, 0), 403},
		{"wrong last byte", "Bearer " + flip(readToken, len(readToken)-1), 403},
		{"read token", "Bearer " + readToken, 503},
		{"run token", "Bearer " + runToken, 503},
		{"basic password", basic("anyone", readToken), 503},
		{"basic without password", basic(readToken, ""), 401},
		{"basic, wrong password", basic("x", "y"), 403},
		{"malformed basic", "Basic %%%", 401},
	} {
		resp, b := w.doRaw("GET", "/api/v1/status", tc.auth, "")
		want := tc.code
		if want == http.StatusServiceUnavailable && resp.StatusCode == http.StatusOK {
			want = 200 // healthy or not, it answered
		}
		if resp.StatusCode != want {
			t.Errorf("GET /api/v1/status with %s: %d %s, want %d", tc.name, resp.StatusCode, b, tc.code)
		}
	}
	w.checkClean()
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// doRaw sends auth as it is, NUL bytes and tabs included, over a plain
// connection (http.Client refuses such headers), and reads the response.
func (w *world) doRaw(method, path, auth, body string) (reply, []byte) {
	w.t.Helper()
	conn, err := (&net.Dialer{}).DialContext(w.t.Context(), "tcp", strings.TrimPrefix(w.srv.URL, "http://"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n", method, path, len(body))
	if auth != "" {
		fmt.Fprintf(&req, "Authorization: %s\r\n", auth)
	}
	req.WriteString("\r\n" + body)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	w.bodyMu.Lock()
	w.bodies = append(w.bodies, method+" "+path+"\n"+string(b))
	w.bodyMu.Unlock()
	return reply{StatusCode: resp.StatusCode, Header: resp.Header}, b
}

func TestAbuseHeaders(t *testing.T) {
	t.Parallel()
	w := newWorld(t, api.Config{Token: runToken}, true)
	good := regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	for _, id := range []string{"<script>alert(1)</script>", strings.Repeat("a", 65), "a b", "%0d%0aSet-Cookie: x", `"},"x":"`, "ä"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(api.RequestIDHeader, id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := resp.Header.Get(api.RequestIDHeader); got == id || !good.MatchString(got) {
			t.Errorf("request id %q came back as %q", id, got)
		}
	}
	// A header line with a raw CR or a NUL is a bad request to net/http;
	// the API never sees it, and no header is injected.
	resp, _ := w.doRaw("GET", "/healthz", "x\rSet-Cookie: a=b", "")
	if resp.Header.Get("Set-Cookie") != "" || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("CR in a header: %d %v", resp.StatusCode, resp.Header)
	}
	// Request ids go into the logs as JSON strings, never as raw lines.
	for line := range strings.SplitSeq(strings.TrimSpace(w.log.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
		}
	}
	w.checkClean()
}

// TestServerTimeouts pins the limits NewServer sets against slow or idle
// clients, and shows them at work: with a short header timeout, a crowd
// of clients that never finish their headers is dropped while an honest
// client is served.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := api.NewServer(":0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		name      string
		got, want time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout, 5 * time.Second},
		{"ReadTimeout", srv.ReadTimeout, 30 * time.Second},
		{"WriteTimeout", srv.WriteTimeout, 60 * time.Second},
		{"IdleTimeout", srv.IdleTimeout, 2 * time.Minute},
	} {
		if tc.got != tc.want {
			t.Errorf("%s %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	if srv.MaxHeaderBytes != 64<<10 || srv.ErrorLog == nil {
		t.Errorf("MaxHeaderBytes %d, ErrorLog %v", srv.MaxHeaderBytes, srv.ErrorLog)
	}

	w := newWorld(t, api.Config{Token: runToken}, true)
	slow := api.NewServer("", w.api, slog.New(slog.DiscardHandler))
	slow.ReadHeaderTimeout = 300 * time.Millisecond
	ts := httptest.NewUnstartedServer(w.api)
	ts.Config = slow
	ts.Start()
	t.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "http://")

	const clients = 50
	var wg sync.WaitGroup
	dropped := make(chan bool, clients)
	for range clients {
		wg.Go(func() {
			conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer func() { _ = conn.Close() }()
			_, _ = io.WriteString(conn, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ") // and never more
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err = io.ReadAll(conn) // ends when the server closes
			dropped <- err == nil
		})
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an honest client among slow ones: %d", resp.StatusCode)
	}
	wg.Wait()
	close(dropped)
	n := 0
	for d := range dropped {
		if d {
			n++
		}
	}
	if n != clients {
		t.Errorf("%d of %d slow clients were dropped by the server", n, clients)
	}
}
