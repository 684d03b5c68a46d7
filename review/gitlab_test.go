package review_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/review/gitlabtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	project = "analytics/queries"
	token   = "glpat-Sup3rS3cretT0ken"
)

var merged = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// syncBuffer is a log sink that tests read after the fact.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// catalogOf loads query files (path under queries/ → SQL).
func catalogOf(t *testing.T, files map[string]string) []*catalog.Query {
	t.Helper()
	fsys := fstest.MapFS{}
	for p, sql := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(queryText(sql))}
	}
	c, err := catalog.Load(fsys, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Queries
}

// owners are code-owner rules of a queries/ file satisfied by the data
// team and security, as CODEOWNERS asks.
func owners(data, security string) []gitlabtest.Rule {
	var d, s []string
	if data != "" {
		d = []string{data}
	}
	if security != "" {
		s = []string{security}
	}
	return []gitlabtest.Rule{
		{Name: "/queries/", Section: "Data team", ApprovedBy: d},
		{Name: "/queries/", Section: "Security", ApprovedBy: s},
	}
}

// world is a GitLab project with one file per scenario:
//
//	ci/approved.sql   merged in !1, approved by both code owners
//	ci/outsider.sql   merged in !2, approved only by @random-rick
//	ci/drifted.sql    merged in !3 (approved), then two direct pushes
//	ci/open.sql       only in !4, which is still open
//	ci/pushed.sql     pushed directly, no merge request
func world(t *testing.T) (*gitlabtest.Server, []*catalog.Query) {
	t.Helper()
	s := gitlabtest.New(project, "main", token)
	files := map[string]string{
		"ci/approved.sql": sqlV1,
		"ci/outsider.sql": sqlV1 + " WHERE true",
		"ci/drifted.sql":  sqlV2,
		"ci/open.sql":     sqlV1 + " WHERE 1 = 1",
		"ci/pushed.sql":   sqlV1 + " WHERE 2 = 2",
	}
	repo := func(p string) string { return "queries/" + p }
	text := func(p string) string { return queryText(files[p]) }

	c1 := s.Commit("Add approved", map[string]string{repo("ci/approved.sql"): text("ci/approved.sql")})
	s.MergeRequest(gitlabtest.MergeRequest{IID: 1, State: "merged", Commits: []string{c1}, MergedAt: merged,
		Rules: owners("data-dana", "sec-sam"), ApprovedBy: []string{"data-dana", "sec-sam"}})

	c2 := s.Commit("Add outsider", map[string]string{repo("ci/outsider.sql"): text("ci/outsider.sql")})
	s.MergeRequest(gitlabtest.MergeRequest{IID: 2, State: "merged", Commits: []string{c2}, MergedAt: merged,
		Rules: owners("", ""), ApprovedBy: []string{"random-rick"}})

	c3 := s.Commit("Add drifted", map[string]string{repo("ci/drifted.sql"): queryText(sqlV1)})
	s.MergeRequest(gitlabtest.MergeRequest{IID: 3, State: "merged", Commits: []string{c3}, MergedAt: merged,
		Rules: owners("data-dana", "sec-sam"), ApprovedBy: []string{"data-dana", "sec-sam"}})
	s.Commit("tweak", map[string]string{repo("ci/drifted.sql"): queryText(sqlV1 + " -- tweak")})
	s.Commit("tweak again", map[string]string{repo("ci/drifted.sql"): text("ci/drifted.sql")})

	c4 := s.Commit("Add open", map[string]string{repo("ci/open.sql"): text("ci/open.sql")})
	s.MergeRequest(gitlabtest.MergeRequest{IID: 4, State: "opened", Commits: []string{c4},
		Rules: owners("data-dana", "sec-sam"), ApprovedBy: []string{"data-dana", "sec-sam"}})

	s.Commit("Add pushed", map[string]string{repo("ci/pushed.sql"): text("ci/pushed.sql")})
	return s, catalogOf(t, files)
}

func newCache(t *testing.T) *history.Store {
	t.Helper()
	st, err := history.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func newGitLab(t *testing.T, cfg review.GitLabConfig, cache review.Cache, logs *syncBuffer) *review.GitLab {
	t.Helper()
	cfg.Token, cfg.Project = token, project
	cfg.RetryWait = cmpOr(cfg.RetryWait, time.Millisecond)
	g, err := review.NewGitLab(cfg, cache, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

func TestGitLab(t *testing.T) {
	t.Parallel()
	srv, queries := world(t)
	url := srv.Start(t)
	cache := newCache(t)
	logs := &syncBuffer{}
	g := newGitLab(t, review.GitLabConfig{URL: url}, cache, logs)

	got, err := g.Approve(t.Context(), queries)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(queries) {
		t.Fatalf("%d approvals for %d queries", len(got), len(queries))
	}
	a := got["approved"]
	if a.State != review.Approved || a.MRIID != 1 || strings.Join(a.Approvers, ",") != "data-dana,sec-sam" ||
		!a.MergedAt.Equal(merged) || len(a.Commit) != 40 ||
		a.MRURL != "https://gitlab.example.com/analytics/queries/-/merge_requests/1" {
		t.Errorf("approved: %+v", a)
	}
	if want := "gitlab !1 by @data-dana, @sec-sam at " + a.Commit[:12]; a.Summary != want {
		t.Errorf("approved: summary %q, want %q", a.Summary, want)
	}
	for name, want := range map[string]struct {
		state  review.State
		reason []string
	}{
		"outsider": {review.Unapproved, []string{"!2: code-owner rule /queries/ [Data team], /queries/ [Security] for queries/ci/outsider.sql not satisfied",
			"approved only by @random-rick, not by a code owner"}},
		"drifted": {review.Drifted, []string{"approved in !3 at", "then changed by commit", "in no merged merge request into main"}},
		"open":    {review.Unapproved, []string{"only in !4, which is opened into main, not merged"}},
		"pushed":  {review.Unapproved, []string{"in no merged merge request into main (pushed directly?)"}},
	} {
		a := got[name]
		if a.State != want.state || a.OK() || a.MRIID != 0 || a.Approvers != nil {
			t.Errorf("%s: %+v, want %s", name, a, want.state)
		}
		for _, r := range want.reason {
			if !strings.Contains(a.Reason, r) {
				t.Errorf("%s: reason %q, want it to contain %q", name, a.Reason, r)
			}
		}
	}
	// The drifted file's commits span two pages (page size 2).
	paged := false
	for _, r := range srv.Requests() {
		if strings.Contains(r, "/repository/commits?") && strings.Contains(r, "page=2") &&
			strings.Contains(r, "path=queries%2Fci%2Fdrifted.sql") {
			paged = true
		}
	}
	if !paged {
		t.Errorf("no second page of the drifted file's commits was read: %q", srv.Requests())
	}

	// An unchanged approved file costs no API call the next time; the
	// others are asked about again.
	srv.ResetRequests()
	again, err := g.Approve(t.Context(), queries[:1]) // approved.sql is first by path
	if err != nil {
		t.Fatal(err)
	}
	if queries[0].Name != "approved" || again["approved"].State != review.Approved || again["approved"].MRIID != 1 ||
		!strings.HasSuffix(again["approved"].Summary, "(cached)") {
		t.Errorf("cached approval: %+v", again["approved"])
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("a cached approval made %d API calls: %q", len(reqs), reqs)
	}

	// A changed file is not the cached content: asked about, and drifted
	// (the runner's file differs from the branch).
	changed := catalogOf(t, map[string]string{"ci/approved.sql": sqlV1 + " WHERE NOT confidential"})
	got, err = g.Approve(t.Context(), changed)
	if err != nil {
		t.Fatal(err)
	}
	if a := got["approved"]; a.State != review.Drifted || !strings.Contains(a.Reason, "differs from queries/ci/approved.sql at") {
		t.Errorf("edited approved file: %+v", a)
	}
	assertNoToken(t, logs.String(), got)
}

func assertNoToken(t *testing.T, logs string, approvals map[string]review.Approval) {
	t.Helper()
	if strings.Contains(logs, token) {
		t.Errorf("the token appears in the logs:\n%s", logs)
	}
	if logs == "" {
		t.Error("nothing was logged: the check above proves nothing")
	}
	for name, a := range approvals {
		if strings.Contains(a.Reason+a.Summary, token) {
			t.Errorf("%s: the token appears in %+v", name, a)
		}
	}
}

// TestGitLabDown: with GitLab answering 503, files without a cached
// approval are Unknown (the run skips them), cached ones still run, and
// after the first failure no more calls are made.
func TestGitLabDown(t *testing.T) {
	t.Parallel()
	srv, queries := world(t)
	url := srv.Start(t)
	cache := newCache(t)
	logs := &syncBuffer{}
	g := newGitLab(t, review.GitLabConfig{URL: url, Retries: 2}, cache, logs)
	if _, err := g.Approve(t.Context(), queries); err != nil { // fills the cache with approved.sql
		t.Fatal(err)
	}
	srv.SetDown(true)
	srv.ResetRequests()
	got, err := g.Approve(t.Context(), queries)
	if err != nil {
		t.Fatalf("Approve with GitLab down: %v; want per-query Unknown", err)
	}
	if a := got["approved"]; !a.OK() || a.MRIID != 1 {
		t.Errorf("cached approval with GitLab down: %+v", a)
	}
	for _, name := range []string{"outsider", "drifted", "open", "pushed"} {
		a := got[name]
		if a.State != review.Unknown || !strings.Contains(a.Reason, "GitLab API:") || !strings.Contains(a.Reason, "503") {
			t.Errorf("%s with GitLab down: %+v", name, a)
		}
	}
	// One request and its 2 retries, then none.
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests with GitLab down, want 3 (one request, two retries): %q", n, srv.Requests())
	}
	assertNoToken(t, logs.String(), got)

	// A wrong token: Unknown with GitLab's 401, the token not shown.
	bad, err := review.NewGitLab(review.GitLabConfig{URL: url, Token: "glpat-wrong-" + token, Project: project}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetDown(false)
	got, err = bad.Approve(t.Context(), queries[:1])
	if err != nil {
		t.Fatal(err)
	}
	if a := got["approved"]; a.State != review.Unknown || !strings.Contains(a.Reason, "401") || strings.Contains(a.Reason, token) {
		t.Errorf("wrong token: %+v", a)
	}
}

// TestGitLabRateLimited: a 429 is retried after the Retry-After delay
// (fake clock: the test does not sleep).
func TestGitLabRateLimited(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, queries := world(t)
		logs := &syncBuffer{}
		g := newGitLab(t, review.GitLabConfig{URL: "http://gitlab.test", HTTPClient: srv.HTTPClient()}, nil, logs)
		srv.RateLimit(2, 7*time.Second)
		start := time.Now()
		got, err := g.Approve(t.Context(), queries[:1])
		if err != nil {
			t.Fatal(err)
		}
		if a := got["approved"]; !a.OK() || a.MRIID != 1 {
			t.Errorf("after the rate limit: %+v", a)
		}
		sent, next := srv.RateLimited()
		if len(sent) != 2 || len(next) != 2 {
			t.Fatalf("429s sent at %v, next requests at %v; want 2 and 2", sent, next)
		}
		for i := range sent {
			if d := next[i].Sub(sent[i]); d != 7*time.Second {
				t.Errorf("retry %d came %v after the 429, want the Retry-After of 7s", i+1, d)
			}
		}
		if d := time.Since(start); d != 14*time.Second {
			t.Errorf("Approve took %v of fake time, want 14s (two waits of 7s)", d)
		}
		assertNoToken(t, logs.String(), got)
	})
}

func TestGitLabConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  review.GitLabConfig
		want string
	}{
		{review.GitLabConfig{Project: "p"}, "gitlab.token: not set"},
		{review.GitLabConfig{Token: token}, "gitlab.project: not set"},
		{review.GitLabConfig{Token: token, Project: "p", URL: "gitlab.com"}, `gitlab.url "gitlab.com"`},
		{review.GitLabConfig{Token: token, Project: "p", Branch: "refs/heads/main"}, "a reference name"},
	} {
		_, err := review.NewGitLab(tc.cfg, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), token) {
			t.Errorf("NewGitLab(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestOwnsPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"*", "queries/ci/a.sql", true},
		{"/queries/", "queries/ci/a.sql", true},
		{"/queries/", "queries", false},
		{"/queries/", "other/queries/a.sql", false},
		{"queries/", "other/queries/a.sql", true},
		{"/queries", "queries/ci/a.sql", true},
		{"/queries/ci/", "queries/plan/a.sql", false},
		{"*.sql", "queries/ci/a.sql", true},
		{"/queries/**/a.sql", "queries/ci/x/a.sql", true},
		{"/queries/*.sql", "queries/ci/a.sql", false},
		{"/queries/*/a.sql", "queries/ci/a.sql", true},
		{"/dump.yml", "queries/dump.yml", false},
		{"dump.yml", "sub/dump.yml", true},
		{"/guard/", "queries/guard/a.sql", false},
	} {
		if got := review.OwnsPath(tc.pattern, tc.path); got != tc.want {
			t.Errorf("OwnsPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

var _ review.Cache = (*history.Store)(nil)

var _ interface {
	Approve(context.Context, []*catalog.Query) (map[string]review.Approval, error)
} = (*review.GitLab)(nil)
