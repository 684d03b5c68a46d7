//go:build !no_duckdb

package cli

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/review"
)

// sealedCanary is a label title only the source holds.
const sealedCanary = "CANARY-SECRET-123"

// sealedWorld is a source whose labels hold the canary, a schema catalog
// in which a query the guard accepts can still make PostgreSQL quote it
// (labels.title is a category: casts on it are allowed), and a query that
// does: l.title::int.
func sealedWorld(t *testing.T) (config string) {
	t.Helper()
	src := pgtest.New(t)
	if _, err := pgtest.Connect(t, src).Exec(t.Context(), `
		CREATE TABLE labels (id int PRIMARY KEY, title text NOT NULL);
		INSERT INTO labels VALUES (1, '10'), (2, '20'), (3, '`+sealedCanary+`');
		CREATE TABLE events (id bigserial PRIMARY KEY, author_id int NOT NULL, label_id int NOT NULL, k int NOT NULL);
		INSERT INTO events (author_id, label_id, k) SELECT a, 1 + a % 3, a % 2 FROM generate_series(1, 40) a`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"schema.yml": "version: test.1\ntables:\n" +
			"  events:\n    entity: [author_id]\n    columns: {id: key, author_id: key, label_id: key, k: category}\n" +
			"  labels:\n    entity: []\n    columns: {id: key, title: category}\n",
		"queries/leak/cast.sql": "-- description: labels cast to numbers\n-- owner: @pm\n-- group_size: actors\n" +
			"SELECT e.k, count(DISTINCT e.author_id) AS actors\nFROM events e JOIN labels l ON l.id = e.label_id\n" +
			"WHERE l.title::int > 0\nGROUP BY e.k\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, src)+"\n"+
		"history:\n  url: "+withPassword(t, pgtest.New(t))+"\n"+
		"warehouse:\n  url: duckdb://"+filepath.Join(dir, "w.duckdb")+"\n"+
		"queries:\n  dir: "+filepath.Join(dir, "queries")+"\n  approval: none\n"+
		"guard:\n  schema: "+filepath.Join(dir, "schema.yml")+"\n"+
		"api:\n  token: "+testRunToken+"\n  read_token: "+testReadToken+"\n")
}

// TestSourceErrorTextLeavesNothing makes the source quote a value in its
// error message (invalid input syntax for type integer: "<the canary>")
// and looks for the value, and for any word of that message, in every
// surface that shows the failure: the run table and the logs of
// metricgate run, the history row, every route of the API (the status,
// the run, the query, the list of runs and queries), the status page,
// /metrics, metricgate plan and the merge-request note. Each must show
// the SQLSTATE and its condition name instead.
func TestSourceErrorTextLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	config := sealedWorld(t)
	const sealed = "SQLSTATE 22P02 invalid_text_representation"
	leaks := func(surface, text string, wantSealed bool) {
		t.Helper()
		for _, s := range []string{sealedCanary, "invalid input syntax", testPassword} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %q:\n%s", surface, s, text)
			}
		}
		if wantSealed && !strings.Contains(text, sealed) {
			t.Errorf("%s does not say %q:\n%s", surface, sealed, text)
		}
	}
	cmd := func(wantCode int, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		code := run(ctx, append(args, "--config", config), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out})
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, wantCode, out.String())
		}
		return out.String()
	}

	out := cmd(ExitProblems, "run", "--once", "--verbose")
	leaks("metricgate run (table and logs)", out, true)
	if !regexp.MustCompile(`(?m)^cast\s+main\s+failed\s+0\s+0\s+0\s+\S+\s+query: ` + sealed + ` in leak/cast.sql$`).MatchString(out) {
		t.Errorf("run table:\n%s", out)
	}
	leaks("metricgate plan", cmd(ExitProblems, "plan", "cast"), true)

	cfg, err := loadConfig(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, problems, err := loadCatalog(cfg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("catalog: %v %v", problems, err)
	}
	g, err := newGuard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	note, refused := renderNote(ctx, cfg, cat, problems, g, &review.Changes{Base: "0123456789abcdef", Changed: []string{"leak/cast.sql"}})
	leaks("the merge-request note", note, true)
	if refused != 1 {
		t.Errorf("the note refuses %d files, want 1:\n%s", refused, note)
	}

	store, err := history.Open(ctx, cfg.History.URL.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	qrs, err := store.QueryRuns(ctx, 1)
	if err != nil || len(qrs) != 1 {
		t.Fatalf("history: %+v %v", qrs, err)
	}
	leaks("the history (query_runs.error)", qrs[0].Error, true)

	sched, err := catalog.ParseSchedule(cfg.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	var apiLog bytes.Buffer
	a, err := api.New(cfg.apiConfig(), api.Deps{History: store, Runs: &lateRuns{schedule: sched},
		Catalog: func() *catalog.Catalog { return cat }, Logger: slog.New(slog.NewJSONHandler(&apiLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	for _, route := range []struct {
		path       string
		wantSealed bool
	}{
		{"/api/v1/status", true}, {"/api/v1/runs", false}, {"/api/v1/runs/" + strconv.FormatInt(qrs[0].RunID, 10), true},
		{"/api/v1/queries", true}, {"/api/v1/queries/cast", true}, {"/metrics", false}, {"/", true},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+route.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testReadToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if route.path != "/api/v1/runs" && !strings.Contains(string(body), "cast") {
			t.Errorf("GET %s: %d, does not show the query:\n%s", route.path, resp.StatusCode, body)
		}
		leaks("GET "+route.path, string(body), route.wantSealed)
	}
	leaks("the API's log", apiLog.String(), false)
}
