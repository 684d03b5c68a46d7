package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"gopkg.in/yaml.v3"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/review/gitlabtest"
)

// TestCIPlanNote runs the script of the template's metricgate:plan job in
// a merge-request pipeline, twice: the first pipeline posts one note on
// the MR with the verdict and plan of each changed query (and no row of
// data), the second updates that note in place.
func TestCIPlanNote(t *testing.T) {
	data, err := os.ReadFile("../ci/queries.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]yaml.Node
	if err := yaml.Unmarshal(data, &tmpl); err != nil {
		t.Fatal(err)
	}
	var job struct {
		Script    []string          `yaml:"script"`
		Variables map[string]string `yaml:"variables"`
	}
	node, ok := tmpl["metricgate:plan"]
	if !ok {
		t.Fatal("no metricgate:plan job")
	}
	if err := node.Decode(&job); err != nil || len(job.Script) == 0 {
		t.Fatalf("metricgate:plan has no script: %v", err)
	}
	if job.Variables["GIT_DEPTH"] != "0" {
		t.Errorf("metricgate:plan: GIT_DEPTH %q, want \"0\" (the diff needs the base commit)", job.Variables["GIT_DEPTH"])
	}

	// The sample database: 30 projects with 1..30 issues each, project ids
	// 7001..7030 (which must not appear in the note).
	src := withPassword(t, pgtest.New(t))
	conn := pgtest.Connect(t, src)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE issues (id serial, project_id int, author_id int, state_id int);
		INSERT INTO issues (project_id, author_id, state_id) SELECT 7000 + p, a, p % 3 FROM generate_series(1, 30) p, generate_series(1, p) a`); err != nil {
		t.Fatal(err)
	}

	// The queries repository: the base has good.sql and same.sql; the MR
	// changes good.sql, adds bad.sql and removes gone.sql.
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(msg string) string {
		sig := &object.Signature{Name: "Paula PM", Email: "pm@example.com", When: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	header := "-- description: Issues per project.\n-- owner: @pm\n-- group_size: authors\n"
	write("queries/plan/good.sql", header+"SELECT project_id, count(DISTINCT author_id) AS authors FROM issues GROUP BY 1\n")
	write("queries/plan/same.sql", header+"SELECT count(DISTINCT author_id) AS authors FROM issues\n")
	write("queries/plan/gone.sql", header+"SELECT count(DISTINCT author_id) AS authors FROM issues WHERE true\n")
	base := commit("base")
	write("queries/plan/good.sql", header+"SELECT state_id AS bucket, count(DISTINCT author_id) AS authors, count(*) AS issues FROM issues GROUP BY 1\n")
	write("queries/plan/bad.sql", header+"SELECT title, count(*) AS authors FROM issues\n")
	if _, err := wt.Remove("queries/plan/gone.sql"); err != nil {
		t.Fatal(err)
	}
	commit("the MR")

	srv := gitlabtest.New("analytics/queries", "main", gitlabToken)
	srv.MergeRequest(gitlabtest.MergeRequest{IID: 12, State: "opened"})
	for i := range 3 { // other people's notes, over two pages
		srv.AddNote(12, "reviewer-rita", "Looks fine to me "+strings.Repeat("!", i))
	}
	url := srv.Start(t)
	environ := []string{
		"CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_IID=12", "CI_PROJECT_ID=42",
		"CI_API_V4_URL=" + url + "/api/v4", "CI_MERGE_REQUEST_DIFF_BASE_SHA=" + base,
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main",
		"METRICGATE_GITLAB_TOKEN=" + gitlabToken, "METRICGATE_SOURCES_MAIN_URL=" + src,
	}
	t.Chdir(dir)
	pipeline := func() (exit int, out string) {
		t.Helper()
		for _, line := range job.Script {
			fields := strings.Fields(line)
			if fields[0] != "metricgate" {
				t.Fatalf("unexpected command in the template: %s", line)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), fields[1:], &env{stdout: &stdout, stderr: &stderr, environ: environ})
			out += stdout.String() + stderr.String()
			if code == ExitUsage {
				t.Fatalf("%s: usage error: %s", line, stderr.String())
			}
			exit = max(exit, code)
		}
		for _, secret := range []string{gitlabToken, testPassword} {
			if strings.Contains(out, secret) {
				t.Errorf("the job printed a secret:\n%s", out)
			}
		}
		return exit, out
	}

	exit, out := pipeline()
	if exit != ExitProblems || !strings.Contains(out, "posted note") || !strings.Contains(out, "on !12: 2 changed query files, 1 would be refused") {
		t.Errorf("first pipeline: exit %d:\n%s", exit, out)
	}
	mine := func() gitlabtest.Note {
		t.Helper()
		var found []gitlabtest.Note
		for _, n := range srv.Notes(12) {
			if strings.Contains(n.Body, noteMarker) {
				found = append(found, n)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d metricgate notes on !12, want exactly 1: %+v", len(found), srv.Notes(12))
		}
		return found[0]
	}
	first := mine()
	for _, want := range []string{
		"#### `queries/plan/good.sql`: passes validate",
		"| `bucket` | `int4` | group key |",
		"| `authors` | `int8` | aggregate |",
		"| `issues` | `int8` | aggregate |",
		"- EXPLAIN cost: **",
		"- would load **3** rows",
		"- suppressed: **0** rows with fewer than 10 people, **0** cells",
		"- each row counted in: `issues.author_id` (at least 10 distinct of each)",
		"| 0–9 (suppressed) | 0 |",
		"#### `queries/plan/bad.sql`: fails validate",
		"queries/plan/bad.sql:4:",
		"#### Removed",
		"`queries/plan/gone.sql`: no longer runs",
	} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("note lacks %q:\n%s", want, first.Body)
		}
	}
	if strings.Contains(first.Body, "same.sql") {
		t.Errorf("note plans an unchanged file:\n%s", first.Body)
	}
	for p := 7001; p <= 7030; p++ {
		if strings.Contains(first.Body, strconv.Itoa(p)) {
			t.Fatalf("note holds a data value (project %d):\n%s", p, first.Body)
		}
	}
	if strings.Contains(first.Body, gitlabToken) || strings.Contains(first.Body, testPassword) {
		t.Errorf("note holds a secret:\n%s", first.Body)
	}

	// The author fixes bad.sql and pushes: the next pipeline updates the
	// same note.
	write("queries/plan/bad.sql", header+"SELECT count(DISTINCT author_id) AS authors, count(*) AS issues FROM issues\n")
	commit("fix bad")
	exit, out = pipeline()
	if exit != ExitOK || !strings.Contains(out, "updated note "+strconv.FormatInt(first.ID, 10)+" on !12") {
		t.Errorf("second pipeline: exit %d:\n%s", exit, out)
	}
	second := mine()
	if second.ID != first.ID || second.Body == first.Body || !strings.Contains(second.Body, "#### `queries/plan/bad.sql`: passes validate") {
		t.Errorf("second pipeline: note %d, want %d updated with bad.sql passing:\n%s", second.ID, first.ID, second.Body)
	}
	if n := len(srv.Notes(12)); n != 4 {
		t.Errorf("%d notes on !12, want 4 (3 of others and 1 of metricgate)", n)
	}
}
