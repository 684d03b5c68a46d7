package runner_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/review/gitlabtest"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// TestRunGitLabApproval runs queries under the gitlab approval mode against
// a GitLab-shaped API: the file a code owner approved runs and its rows and
// history carry the merge request; the others are skipped with the reason;
// with GitLab down, the cached approval still runs and the others are
// skipped as unknown.
func TestRunGitLabApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	const token = "glpat-runner-S3cret"
	texts := map[string]string{
		"owned":    query(perGroup),
		"outsider": query(perGroup + " HAVING true"),
		"drifted":  query(perGroup + " HAVING 1 = 1"),
	}
	srv := gitlabtest.New("analytics/queries", "main", token)
	rules := func(by ...string) []gitlabtest.Rule {
		return []gitlabtest.Rule{{Name: "/queries/", Section: "Security", ApprovedBy: by}}
	}
	merged := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c1 := srv.Commit("owned", map[string]string{"queries/owned.sql": texts["owned"]})
	srv.MergeRequest(gitlabtest.MergeRequest{IID: 7, State: "merged", Commits: []string{c1}, MergedAt: merged,
		Rules: rules("sec-sam"), ApprovedBy: []string{"sec-sam"}})
	c2 := srv.Commit("outsider", map[string]string{"queries/outsider.sql": texts["outsider"]})
	srv.MergeRequest(gitlabtest.MergeRequest{IID: 8, State: "merged", Commits: []string{c2}, MergedAt: merged,
		Rules: rules(), ApprovedBy: []string{"random-rick"}})
	c3 := srv.Commit("drifted", map[string]string{"queries/drifted.sql": query(perGroup + " HAVING 2 = 2")})
	srv.MergeRequest(gitlabtest.MergeRequest{IID: 9, State: "merged", Commits: []string{c3}, MergedAt: merged,
		Rules: rules("sec-sam"), ApprovedBy: []string{"sec-sam"}})
	srv.Commit("direct push", map[string]string{"queries/drifted.sql": texts["drifted"]})

	g, err := review.NewGitLab(review.GitLabConfig{URL: srv.Start(t), Token: token, Project: "analytics/queries",
		RetryWait: time.Millisecond, Retries: 1}, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	qs := buildQueries(t, texts)
	r := e.runner(runner.Config{Approval: "gitlab"}, nil, g)
	res, err := r.Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	q := byName(res)
	if s := q["owned"]; s.Status != history.QuerySucceeded || s.MRIID != 7 || s.Commit != c1 ||
		s.Approval != "gitlab !7 by @sec-sam at "+c1[:12] {
		t.Errorf("owned: %+v", s)
	}
	if s := q["outsider"]; s.Status != history.QuerySkipped || s.MRIID != 0 ||
		!strings.Contains(s.Error, "unapproved: !8: code-owner rule /queries/ [Security]") ||
		!strings.Contains(s.Error, "approved only by @random-rick") {
		t.Errorf("outsider: %s %q", s.Status, s.Error)
	}
	if s := q["drifted"]; s.Status != history.QuerySkipped || !strings.Contains(s.Error, "drifted: approved in !9") {
		t.Errorf("drifted: %s %q", s.Status, s.Error)
	}
	for _, table := range []string{"outsider", "drifted"} {
		if _, err := e.wh.Read(t.Context(), table); err == nil {
			t.Errorf("table %s exists: a skipped query loaded rows", table)
		}
	}
	// The rows carry the merge request and the commit.
	tb := e.read("owned")
	mr := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_mr_iid" })
	commit := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_commit" })
	if mr < 0 || commit < 0 || len(tb.Rows) != 3 {
		t.Fatalf("owned: columns %v, %d rows", tb.Columns, len(tb.Rows))
	}
	for _, row := range tb.Rows {
		if row[mr] != int64(7) || row[commit] != c1 {
			t.Errorf("owned row: _mr_iid %v, _commit %v; want 7, %s", row[mr], row[commit], c1)
		}
	}
	stored, err := e.store.QueryRuns(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stored {
		if want := map[string]int64{"owned": 7}[s.Query]; s.MRIID != want {
			t.Errorf("history: %s has MRIID %d, want %d", s.Query, s.MRIID, want)
		}
	}

	// GitLab down: the cached approval runs, the others are unknown.
	srv.SetDown(true)
	res, err = r.Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	q = byName(res)
	if s := q["owned"]; s.Status != history.QuerySucceeded || s.MRIID != 7 {
		t.Errorf("owned with GitLab down: %s %q", s.Status, s.Error)
	}
	for _, name := range []string{"outsider", "drifted"} {
		if s := q[name]; s.Status != history.QuerySkipped || !strings.HasPrefix(s.Error, "unknown: GitLab API:") {
			t.Errorf("%s with GitLab down: %s %q", name, s.Status, s.Error)
		}
	}
	if res.Status != history.RunSucceeded {
		t.Errorf("run with GitLab down: %s %q; skipped queries do not fail it", res.Status, res.Error)
	}
	for _, s := range res.Queries {
		if strings.Contains(s.Error+s.Approval, token) {
			t.Errorf("%s: the token appears in %+v", s.Query, s)
		}
	}
}
