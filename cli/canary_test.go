//go:build !no_duckdb

package cli

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// redScanner looks for red data in an output: every canary marker of
// gitlabfake (they all start with CanaryPrefix), the secrets of the test's
// configuration, and what red data looks like when it carries no marker —
// e-mail addresses, IPv4 addresses (the generated sign-in IPs have none),
// bcrypt digests, GitLab tokens, private and SSH keys.
type redScanner struct {
	secrets  []string
	patterns []redPattern
}

type redPattern struct {
	name string
	re   *regexp.Regexp
	ok   func(string) bool // an allowed match, or nil
}

func newRedScanner(secrets ...string) *redScanner {
	return &redScanner{
		secrets: append([]string{gitlabfake.CanaryPrefix}, secrets...),
		patterns: []redPattern{
			{name: "e-mail address", re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)},
			{name: "IPv4 address", re: regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`),
				ok: func(s string) bool { return s == "127.0.0.1" || s == "0.0.0.0" }}, // the test's own servers
			{name: "bcrypt digest", re: regexp.MustCompile(`\$2[aby]\$\d\d\$`)},
			{name: "GitLab token", re: regexp.MustCompile(`\bgl(?:pat|ptt|dt|rt|oas|cbt|ft|imt|soat|agent|ffct)-[0-9A-Za-z_-]{8,}`)},
			{name: "private key", re: regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----|\bssh-(?:rsa|ed25519|dss) AAAA`)},
		},
	}
}

// scan returns what red data s holds, as "what: sample" lines.
func (r *redScanner) scan(s string) []string {
	var found []string
	for _, secret := range r.secrets {
		if i := strings.Index(s, secret); i >= 0 {
			found = append(found, fmt.Sprintf("%q: %q", secret, sample(s, i)))
		}
	}
	for _, p := range r.patterns {
		for _, loc := range p.re.FindAllStringIndex(s, 20) {
			if m := s[loc[0]:loc[1]]; p.ok == nil || !p.ok(m) {
				found = append(found, fmt.Sprintf("%s %q: %q", p.name, m, sample(s, loc[0])))
				break
			}
		}
	}
	return found
}

func sample(s string, i int) string {
	return s[max(i-40, 0):min(i+80, len(s))]
}

// TestCanaryScan is the canary scan of the whole demo pipeline (issues 5
// and 7): the example queries run on gitlabfake, metricgate dump and load
// move its public projects into DuckDB, and then every output is scanned
// for red data (redScanner): every table of every schema of the warehouse,
// every dump file (gunzipped) and the manifest, what the commands printed
// and logged, every GET route of api/openapi.yaml served on the same
// history database (bodies and headers), /metrics and the API's JSON logs.
// Each route must answer substantively. Then a canary is planted in each
// kind of output in turn, and the same scan must find it there.
func TestCanaryScan(t *testing.T) {
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
	for _, c := range canaries {
		if !strings.HasPrefix(c.Marker, gitlabfake.CanaryPrefix) {
			t.Fatalf("canary %q does not start with %q: the scan would miss it", c.Marker, gitlabfake.CanaryPrefix)
		}
	}
	const key = "api-canary-test-pseudonym-key-9876"
	red := newRedScanner(key, testPassword, testRunToken, testReadToken)
	leaks := red.scan
	checkScanner(t, red)

	dir := t.TempDir()
	warehousePath := filepath.Join(dir, "w.duckdb")
	dumpDir := filepath.Join(dir, "dumps")
	queryDir, err := filepath.Abs("../queries")
	if err != nil {
		t.Fatal(err)
	}
	config := writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, src)+"\n"+
		"history:\n  url: "+withPassword(t, pgtest.New(t))+"\n"+
		"warehouse:\n  url: duckdb://"+warehousePath+"\n"+
		"queries:\n  dir: "+queryDir+"\n  approval: none\n"+
		"dump:\n  config: "+filepath.Join("..", "dump.yml")+"\n  storage_url: file://"+dumpDir+"?create_dir=true\n"+
		"api:\n  token: "+testRunToken+"\n  read_token: "+testReadToken+"\n")
	environ := []string{"METRICGATE_DUMP_PSEUDONYM_KEY=" + key}
	var logs logWatch // the commands' output and logs, the API's log lines
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

	// fetch returns a route's status, and its headers and body to scan.
	fetch := func(path string) (int, string, string) {
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
		return resp.StatusCode, hdr.String(), string(body)
	}
	get := func(path string) (int, string) {
		t.Helper()
		code, hdr, body := fetch(path)
		if found := leaks(hdr + body); len(found) > 0 {
			t.Errorf("GET %s shows %q:\n%s\n%.3000s", path, found, hdr, body)
		}
		return code, body
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

	if found := leaks(logs.String()); len(found) > 0 {
		t.Errorf("the logs show %q", found)
	}
	if n := strings.Count(logs.String(), `"msg":"http request"`); n < len(asked) {
		t.Errorf("%d request log lines from the API, want at least %d", n, len(asked))
	}

	// The warehouse: every table of every schema, every value.
	wh := scanWarehouse(t, warehousePath, red)
	var targets []string
	for _, q := range cat.Queries {
		targets = append(targets, "main."+q.Target)
	}
	for _, want := range append(targets, "gitlab_public.projects", "gitlab_public.issues", "gitlab_public.notes") {
		if wh.rows[want] == 0 {
			t.Errorf("warehouse table %s is missing or empty (tables: %v)", want, wh.rows)
		}
	}
	for where, found := range wh.found {
		t.Errorf("warehouse %s shows %q", where, found)
	}
	// The dump: every file, gunzipped, and the manifest.
	dumpFiles := scanFiles(t, dumpDir, red)
	if dumpFiles.gz < 14 || dumpFiles.manifests != 1 {
		t.Errorf("dumps: %d .csv.gz files and %d manifests, want 14 or more and 1", dumpFiles.gz, dumpFiles.manifests)
	}
	for where, found := range dumpFiles.found {
		t.Errorf("dump file %s shows %q", where, found)
	}
	testBannedAndMisScoped(t, canaries, dumpDir, warehousePath, config, environ)
	t.Logf("%d markers; %d queries loaded %d rows; dump %s: %d rows; scanned %d warehouse tables (%d values), %d dump files (%d bytes), %d log bytes",
		len(canaries), len(one.Queries), loaded, dumps[0].Location, dumps[0].Rows, len(wh.rows), wh.values,
		dumpFiles.gz+dumpFiles.manifests, dumpFiles.bytes, len(logs.String()))

	// The scan can fail: a canary planted in each kind of output is found
	// there by the same scan.
	marker := gitlabfake.CanaryPrefix + "planted-00000001"
	db, err := sql.Open("duckdb", warehousePath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, "INSERT INTO gitlab_public.projects (id, name) VALUES (-1, '"+marker+"')")
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatalf("plant a canary in the warehouse: %v %v", err, cerr)
	}
	if found := scanWarehouse(t, warehousePath, red).found; len(found) != 1 || !strings.Contains(fmt.Sprint(found["gitlab_public.projects"]), marker) {
		t.Errorf("the warehouse scan does not find the planted canary: %v", found)
	}
	plantGzip(t, filepath.Join(dumpDir, "planted.csv.gz"), "id,title\n1,planted "+marker+"\n")
	if found := scanFiles(t, dumpDir, red).found; len(found) != 1 {
		t.Errorf("the dump scan does not find the planted canary: %v", found)
	}
	if len(leaks(logs.String()+`time=x level=INFO msg="a leak" email=someone@example.org`)) != 1 {
		t.Errorf("the log scan does not find a planted e-mail address")
	}
	runID := runs.Runs[0].ID
	// The history redacts addresses in error texts (internal/redact), so
	// the planted address goes into another field the API shows.
	if _, err := store.StartQueryRun(ctx, history.QueryRun{RunID: runID, Query: "planted", Target: "planted", Source: "main",
		Status: history.QueryFailed, Error: "failed", Approval: "none near 203.0.113.9", Attempts: 1,
		StartedAt: time.Now(), FinishedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a.Invalidate()
	if _, hdr, body := fetch(runPath); !strings.Contains(body, "203.0.113.9") || len(leaks(hdr+body)) != 1 {
		t.Errorf("the API scan does not find an IP address planted in the history: %s", body)
	} else {
		t.Logf("planted canaries found in the warehouse, a dump file, the logs and %s", runPath)
	}
}

// testBannedAndMisScoped (issue 15): the title of a banned user's issue
// in a public project (public but for the ban) is in no dump file and no
// warehouse table; a dump.yml that scopes issues by project, which would
// export confidential issues, is refused by validate, located, and by
// dump before anything is written.
func testBannedAndMisScoped(t *testing.T, canaries []gitlabfake.Canary, dumpDir, warehousePath, config string, environ []string) {
	t.Helper()
	ctx := t.Context()
	var banned, confidential []string
	for _, c := range canaries {
		switch {
		case c.Table == "issues" && c.Column == "title" && c.Reason == "issue of a banned user":
			banned = append(banned, c.Marker)
		case c.Table == "issues" && c.Column == "title" && c.Reason == "confidential issue":
			confidential = append(confidential, c.Marker)
		}
	}
	if len(banned) < 3 || len(confidential) == 0 {
		t.Fatalf("%d titles of banned users' issues, %d of confidential issues: gitlabfake should plant both", len(banned), len(confidential))
	}
	for where, found := range scanFiles(t, dumpDir, &redScanner{secrets: banned}).found {
		t.Errorf("dump file %s holds a banned user's issue title: %s", where, found)
	}
	db, err := sql.Open("duckdb", warehousePath+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, m := range banned {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM gitlab_public.issues WHERE contains(title, ?)`, m).Scan(&n); err != nil || n != 0 {
			t.Errorf("warehouse: %d issues titled %s (%v)", n, m, err)
		}
	}

	repo, err := os.ReadFile(filepath.Join("..", "dump.yml"))
	if err != nil {
		t.Fatal(err)
	}
	misScoped := strings.Replace(string(repo), "scope: {issue: id}", "scope: {project: project_id}", 1)
	if misScoped == string(repo) {
		t.Fatal("dump.yml has no scope: {issue: id} to change")
	}
	path := filepath.Join(t.TempDir(), "dump.yml")
	if err := os.WriteFile(path, []byte(misScoped), 0o644); err != nil {
		t.Fatal(err)
	}
	head, _, found := strings.Cut(string(repo), "scope: {issue: id}")
	if !found {
		t.Fatal("dump.yml has no issues scope")
	}
	line := 1 + strings.Count(head, "\n")
	mis := append(slices.Clone(environ), "METRICGATE_DUMP_CONFIG="+path)
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"validate", "--config", config}, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: mis})
	want := fmt.Sprintf("%s:%d:12: table issues: scope {project: project_id} does not fit the table: want scope: {issue: id}", path, line)
	if code != ExitProblems || !strings.Contains(stderr.String(), want) {
		t.Errorf("validate of a dump.yml scoping issues by project: exit %d, want %d and\n%s\n%s%s", code, ExitProblems, want, stdout.String(), stderr.String())
	}
	before := scanFiles(t, dumpDir, &redScanner{secrets: confidential})
	stdout.Reset()
	stderr.Reset()
	code = run(ctx, []string{"dump", "--config", config}, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: mis})
	after := scanFiles(t, dumpDir, &redScanner{secrets: confidential})
	if code == ExitOK || !strings.Contains(stderr.String(), "does not fit the table") || after.gz != before.gz || after.manifests != before.manifests || len(after.found) > 0 {
		t.Errorf("dump with a dump.yml scoping issues by project: exit %d, %d files before and %d after\n%s%s", code, before.gz, after.gz, stdout.String(), stderr.String())
	}
}

// checkScanner makes sure the scanner finds what it looks for, and lets
// pass what every output is full of.
func checkScanner(t *testing.T, red *redScanner) {
	t.Helper()
	for _, s := range []string{
		"title: CANARY-issues-title-00000042 (confidential)",
		"from jane.doe@example.com", "ip 10.1.2.3", "last_sign_in_ip=198.51.100.7",
		"$2a$10$abcdefghijklmnopqrstuv", "token glpat-0123456789abcdefghij",
		"-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
		"key " + testPassword,
	} {
		if len(red.scan(s)) == 0 {
			t.Errorf("the scanner misses %q", s)
		}
	}
	for _, s := range []string{
		"owner @gitlab-org/plan, @some-pm", "listening on 127.0.0.1:8080", "version 17.1.2, go1.26",
		"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "2026-11-01T04:00:00Z",
		"pseudonym 3f1a9c0e7b", "metricgate_http_requests_total{code=\"200\"} 3",
	} {
		if found := red.scan(s); len(found) > 0 {
			t.Errorf("the scanner flags %q: %v", s, found)
		}
	}
}

type warehouseScan struct {
	rows   map[string]int64    // schema.table → rows
	found  map[string][]string // schema.table → findings
	values int
}

// scanWarehouse reads every table of every schema of the DuckDB file at
// path, column names and every value, through DuckDB itself.
func scanWarehouse(t *testing.T, path string, red *redScanner) warehouseScan {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.QueryContext(ctx, `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var tables [][2]string
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, [2]string{s, n})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()
	out := warehouseScan{rows: map[string]int64{}, found: map[string][]string{}}
	for _, tn := range tables {
		name := tn[0] + "." + tn[1]
		rs, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM "%s"."%s"`, tn[0], tn[1]))
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rs.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		text.WriteString(strings.Join(cols, ",") + "\n")
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprint(&text, v, "\x1f")
			}
			text.WriteByte('\n')
			out.rows[name]++
			out.values += len(vals)
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rs.Close()
		if found := red.scan(text.String()); len(found) > 0 {
			out.found[name] = found
		}
	}
	return out
}

type fileScan struct {
	gz, manifests int
	bytes         int64
	found         map[string][]string
}

// scanFiles reads every file under dir, gunzipping *.gz.
func scanFiles(t *testing.T, dir string, red *redScanner) fileScan {
	t.Helper()
	out := fileScan{found: map[string][]string{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".gz"):
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			out.gz++
		case filepath.Base(p) == "manifest.json":
			if !json.Valid(b) {
				return fmt.Errorf("%s: not JSON", p)
			}
			out.manifests++
		}
		out.bytes += int64(len(b))
		if found := red.scan(string(b)); len(found) > 0 {
			out.found[p] = found
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func plantGzip(t *testing.T, path, text string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
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
