package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/review/gitlabtest"
)

const gitlabToken = "glpat-cli-T0ken-that-must-not-leak"

// gitlabWorld is runWorld with queries.approval gitlab against a
// GitLab-shaped API: actors.sql merged in !5 and approved by a code owner,
// other.sql merged in !6 approved by a non-owner, typo.sql invalid.
type gitlabWorld struct {
	t      *testing.T
	config string
	srv    *gitlabtest.Server
}

func newGitLabWorld(t *testing.T) *gitlabWorld {
	t.Helper()
	src := pgtest.New(t)
	conn := pgtest.Connect(t, src)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE events (k int, actor int);
		INSERT INTO events SELECT k, a FROM generate_series(1, 20) k, generate_series(1, k) a`); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(goodQuery, "GROUP BY k", "WHERE k > 1 GROUP BY k", 1)
	files := map[string]string{"a/actors.sql": goodQuery, "b/other.sql": other,
		"c/typo.sql": strings.Replace(goodQuery, "-- owner:", "-- ownr:", 1)}
	dir := t.TempDir()
	queries := filepath.Join(dir, "queries")
	for name, text := range files {
		p := filepath.Join(queries, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := gitlabtest.New("analytics/queries", "main", gitlabToken)
	merged := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c1 := srv.Commit("actors", map[string]string{"queries/a/actors.sql": goodQuery})
	srv.MergeRequest(gitlabtest.MergeRequest{IID: 5, State: "merged", Commits: []string{c1}, MergedAt: merged,
		Rules: []gitlabtest.Rule{{Name: "/queries/", ApprovedBy: []string{"sec-sam"}}}, ApprovedBy: []string{"sec-sam"}})
	c2 := srv.Commit("other", map[string]string{"queries/b/other.sql": other})
	srv.MergeRequest(gitlabtest.MergeRequest{IID: 6, State: "merged", Commits: []string{c2}, MergedAt: merged,
		Rules: []gitlabtest.Rule{{Name: "/queries/"}}, ApprovedBy: []string{"random-rick"}})
	url := srv.Start(t)
	cfg := writeConfig(t, "sources:\n  main:\n    url: "+withPassword(t, src)+"\n"+
		"history:\n  url: "+withPassword(t, pgtest.New(t))+"\n"+
		"warehouse:\n  url: duckdb://"+filepath.Join(dir, "w.duckdb")+"\n"+
		"queries:\n  dir: "+queries+"\n  approval: gitlab\n"+
		"guard:\n  schema: "+syntheticSchema(t)+"\n"+
		"gitlab:\n  url: "+url+"\n  project: analytics/queries\n  token: ${GITLAB_TOKEN}\n  queries_path: queries\n")
	return &gitlabWorld{t: t, config: cfg, srv: srv}
}

func (w *gitlabWorld) run(args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	code = run(w.t.Context(), append(args, "--config", w.config),
		&env{stdout: &out, stderr: &errOut, environ: []string{"GITLAB_TOKEN=" + gitlabToken}})
	for _, secret := range []string{gitlabToken, testPassword} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			w.t.Errorf("%v printed a secret:\n%s\n%s", args, out.String(), errOut.String())
		}
	}
	return code, out.String(), errOut.String()
}

func TestApprovalsCommand(t *testing.T) {
	t.Parallel()
	w := newGitLabWorld(t)

	code, out, errOut := w.run("approvals")
	if code != ExitProblems {
		t.Errorf("approvals with unapproved files: exit %d, want %d\n%s%s", code, ExitProblems, out, errOut)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^actors\s+approved\s+https://gitlab.example.com/analytics/queries/-/merge_requests/5\s+@sec-sam\s*$`),
		regexp.MustCompile(`(?m)^other\s+unapproved\s+-\s+-\s+!6: code-owner rule /queries/ for queries/b/other.sql not satisfied: approved only by @random-rick`),
		regexp.MustCompile(`(?m)^typo\s+invalid\s+-\s+-\s+does not pass metricgate validate: missing required header key "owner"`),
		regexp.MustCompile(`(?m)^3 query files, approval gitlab: 1 approved, 1 unapproved, 1 invalid$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("approvals lacks %s:\n%s", want, out)
		}
	}

	code, out, _ = w.run("approvals", "--format", "json")
	var rows []approvalRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != ExitProblems || len(rows) != 3 {
		t.Fatalf("approvals --format json: exit %d, %v:\n%s", code, err, out)
	}
	if r := rows[0]; r.Query != "actors" || r.State != "approved" || r.MRIID != 5 || len(r.Commit) != 40 ||
		strings.Join(r.Approvers, ",") != "sec-sam" || r.MergedAt.IsZero() {
		t.Errorf("json row: %+v", r)
	}

	// The run takes the same decisions: actors runs with its merge request,
	// other is skipped with the reason. The approval cached by the
	// approvals command costs no call.
	w.srv.ResetRequests()
	code, out, errOut = w.run("run", "--once")
	if code != ExitProblems ||
		!regexp.MustCompile(`(?m)^actors\s+main\s+succeeded\s+11\s+1-9\s+0\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^other\s+main\s+skipped\s+0\s+0\s+0\s+\S+\s+unapproved: !6: code-owner rule`).MatchString(out) {
		t.Errorf("run --once under gitlab approval: exit %d:\n%s%s", code, out, errOut)
	}
	for _, r := range w.srv.Requests() {
		if strings.Contains(r, "actors.sql") {
			t.Errorf("the cached approval of actors.sql was asked about again: %s", r)
		}
	}
}

func TestApprovalsNeedsGitLabSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, "queries:\n  dir: "+dir+"\n  approval: gitlab\ngitlab:\n  project: a/b\n")
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"approvals", "--config", cfg}, &env{stdout: &out, stderr: &errOut})
	if code != ExitUsage || !strings.Contains(errOut.String(), "queries.approval gitlab needs gitlab.token") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}
