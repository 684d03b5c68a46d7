package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// TestCanariesNotInAPI is issue 5's canary test on the API side: after
// the example queries ran on gitlabfake and metricgate dump and load
// moved its public projects into DuckDB, every GET route of
// api/openapi.yaml, served on the same history database, answers
// substantively, and no response body or header, nor any log line, holds
// a canary marker, the pseudonym key, the DSN password or an API token.
func TestCanariesNotInAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(ctx, pgtest.Connect(t, src), gitlabfake.Options{Scale: 1}); err != nil {
		t.Fatal(err)
	}
	canaries, err := gitlabfake.Canaries(gitlabfake.Options{Scale: 1})
	if err != nil || len(canaries) == 0 {
		t.Fatalf("%d canaries, %v", len(canaries), err)
	}
	const key = "api-canary-test-pseudonym-key-9876"
	secrets := []string{gitlabfake.CanaryPrefix, key, testPassword, testRunToken, testReadToken}
	for _, c := range canaries {
		secrets = append(secrets, c.Marker)
	}
	leaks := func(s string) []string {
		var found []string
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				found = append(found, secret)
			}
		}
		return found
	}

	dir := t.TempDir()
	queryDir, err := filepath.Abs("../queries")
	if err != nil {
		t.Fatal(err)
	}
	config := writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, src)+"\n"+
		"history:\n  url: "+withPassword(t, pgtest.New(t))+"\n"+
		"warehouse:\n  url: duckdb://"+filepath.Join(dir, "w.duckdb")+"\n"+
		"queries:\n  dir: "+queryDir+"\n  approval: none\n"+
		"dump:\n  config: "+filepath.Join("..", "dump.yml")+"\n  storage_url: file://"+filepath.Join(dir, "dumps")+"?create_dir=true\n"+
		"api:\n  token: "+testRunToken+"\n  read_token: "+testReadToken+"\n")
	environ := []string{"METRICGATE_DUMP_PSEUDONYM_KEY=" + key}
	var logs logWatch // the commands' and the API's log lines
	cmd := func(args ...string) string {
		t.Helper()
		var stdout bytes.Buffer
		code := run(ctx, append(args, "--config", config, "--verbose"),
			&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &logs, environ: environ})
		logs.Write(stdout.Bytes())
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, logs.String())
		}
		return stdout.String()
	}
	cmd("run", "--once")
	cmd("dump")
	cmd("load")

	// The API as serve builds it, on the same history database.
	cfg, err := loadConfig(config, environ)
	if err != nil {
		t.Fatal(err)
	}
	store, err := history.Open(ctx, cfg.History.URL.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cat, problems, err := loadCatalog(cfg)
	if err != nil || len(problems) > 0 || len(cat.Queries) == 0 {
		t.Fatalf("catalog: %d queries, %v, %v", len(cat.Queries), problems, err)
	}
	sched, err := catalog.ParseSchedule(cfg.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(cfg.apiConfig(), api.Deps{History: store, Runs: &lateRuns{schedule: sched},
		Catalog: func() *catalog.Catalog { return cat }, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)

	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testReadToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var hdr bytes.Buffer
		_ = resp.Header.Write(&hdr)
		if found := leaks(hdr.String() + string(body)); len(found) > 0 {
			t.Errorf("GET %s shows %q:\n%s\n%s", path, found, hdr.String(), body)
		}
		return resp.StatusCode, string(body)
	}
	decode := func(path, body string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}

	var st api.Status
	_, body := get("/api/v1/status")
	decode("/api/v1/status", body, &st)
	if len(st.Queries) != len(cat.Queries) || len(st.Dumps) == 0 || st.LastRun == nil || st.LastRun.Succeeded != len(cat.Queries) {
		t.Errorf("status lists %d queries of %d, %d dumps, last run %+v:\n%s", len(st.Queries), len(cat.Queries), len(st.Dumps), st.LastRun, body)
	}
	for _, q := range st.Queries {
		if q.LastSuccess == nil {
			t.Errorf("status: query %s never succeeded", q.Name)
		}
	}

	var runs struct{ Runs []api.Run }
	_, body = get("/api/v1/runs")
	decode("/api/v1/runs", body, &runs)
	if len(runs.Runs) != 1 {
		t.Fatalf("runs: %s", body)
	}
	runPath := "/api/v1/runs/" + strconv.FormatInt(runs.Runs[0].ID, 10)
	var one struct{ Queries []api.QueryRun }
	_, body = get(runPath)
	decode(runPath, body, &one)
	if len(one.Queries) != len(cat.Queries) {
		t.Errorf("%s lists %d query runs, want %d:\n%s", runPath, len(one.Queries), len(cat.Queries), body)
	}
	var loaded int64
	for _, q := range one.Queries {
		if q.Status != string(history.QuerySucceeded) {
			t.Errorf("%s: query %s %s %q", runPath, q.Query, q.Status, q.Error)
		}
		loaded += q.RowsLoaded
	}
	if loaded == 0 {
		t.Errorf("%s: the queries loaded no rows", runPath)
	}

	var qs struct{ Queries []api.QueryStatus }
	_, body = get("/api/v1/queries")
	decode("/api/v1/queries", body, &qs)
	if len(qs.Queries) != len(cat.Queries) {
		t.Errorf("queries lists %d, want %d:\n%s", len(qs.Queries), len(cat.Queries), body)
	}
	name := cat.Queries[0].Name
	queryPath := "/api/v1/queries/" + name
	var q struct {
		Query   api.QueryStatus
		History []api.QueryRun
	}
	_, body = get(queryPath)
	decode(queryPath, body, &q)
	if q.Query.Name != name || len(q.History) != 1 {
		t.Errorf("%s: %s", queryPath, body)
	}

	dumps, err := store.Dumps(ctx, 0)
	if err != nil || len(dumps) != 1 || dumps[0].Rows == 0 {
		t.Fatalf("history dumps %+v, %v", dumps, err)
	}
	var ds struct {
		Dumps []api.Dump
		Loads []api.DumpLoad
	}
	_, body = get("/api/v1/dumps")
	decode("/api/v1/dumps", body, &ds)
	if len(ds.Dumps) != 1 || ds.Dumps[0].Rows != dumps[0].Rows || ds.Dumps[0].Tables != 14 ||
		ds.Dumps[0].Status != string(history.DumpSucceeded) || ds.Dumps[0].Location != dumps[0].Location ||
		len(ds.Loads) != 1 || ds.Loads[0].Rows != dumps[0].Rows || ds.Loads[0].Status != string(history.DumpSucceeded) {
		t.Errorf("dumps (history: %d rows at %s): %s", dumps[0].Rows, dumps[0].Location, body)
	}

	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, "metricgate_") || !strings.Contains(body, name) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	code, body = get("/")
	if (code != 200 && code != 503) || !strings.Contains(body, "<html") || !strings.Contains(body, name) ||
		!strings.Contains(body, dumps[0].Location) {
		t.Errorf("/: %d\n%s", code, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(path); code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}

	// Every GET route of the spec was asked for above.
	asked := []string{"/api/v1/status", "/api/v1/runs", "/api/v1/runs/{id}", "/api/v1/queries", "/api/v1/queries/{name}",
		"/api/v1/dumps", "/metrics", "/", "/healthz", "/readyz"}
	for _, p := range specGETs(t) {
		if !slices.Contains(asked, p) {
			t.Errorf("api/openapi.yaml has GET %s, which this test does not ask for", p)
		}
	}

	t.Logf("%d markers; %d queries loaded %d rows; dump %s: %d rows; %d log bytes scanned",
		len(canaries), len(one.Queries), loaded, dumps[0].Location, dumps[0].Rows, len(logs.String()))
	if found := leaks(logs.String()); len(found) > 0 {
		t.Errorf("the logs show %q", found)
	}
	if n := strings.Count(logs.String(), `"msg":"http request"`); n < len(asked) {
		t.Errorf("%d request log lines from the API, want at least %d", n, len(asked))
	}
}

// specGETs lists the paths of api/openapi.yaml with a GET operation.
func specGETs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for p, ops := range doc.Paths {
		if _, ok := ops["get"]; ok {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("api/openapi.yaml: no GET routes")
	}
	return out
}
