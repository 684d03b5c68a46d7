package review_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/review"
)

func TestApprovalOK(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state review.State
		want  bool
	}{
		{review.Approved, true},
		{review.Unapproved, false},
		{review.Drifted, false},
		{review.Unknown, false},
		{"", false},
	} {
		if got := (review.Approval{State: tc.state}).OK(); got != tc.want {
			t.Errorf("Approval{State: %q}.OK() = %v, want %v", tc.state, got, tc.want)
		}
	}
}

func TestNone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"plan/open_issues.sql", "ci/pipelines.sql"} {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(queryText(sqlV1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	queries := load(t, dir)
	got, err := review.None{}.Approve(t.Context(), queries)
	if err != nil {
		t.Fatal(err)
	}
	want := review.Approval{State: review.Approved, Summary: "none (development only)"}
	if len(got) != 2 {
		t.Errorf("None approved %d queries, want 2: %v", len(got), got)
	}
	for _, q := range queries {
		if !reflect.DeepEqual(got[q.Name], want) {
			t.Errorf("None: %s = %+v, want %+v", q.Name, got[q.Name], want)
		}
	}
}

func TestGit(t *testing.T) {
	t.Parallel()
	approved := func(sha, branch string) review.Approval {
		return review.Approval{State: review.Approved, Commit: sha, Summary: "git " + sha[:12] + " on " + branch}
	}
	for _, tc := range []struct {
		name string
		// setup builds a repository and returns the Git to approve with,
		// the queries and the approvals wanted.
		setup func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval)
	}{{
		name: "committed",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			r.write("ci/pipelines.sql", queryText(sqlV2))
			r.commit("plan/open_issues.sql")
			sha := r.commit("ci/pipelines.sql")
			return review.Git{Dir: r.root}, load(t, r.root), map[string]review.Approval{
				"open_issues": approved(sha, "main"),
				"pipelines":   approved(sha, "main"),
			}
		},
	}, {
		name: "edited after commit",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			r.write("plan/closed_issues.sql", queryText(sqlV1))
			sha := r.commit("plan/open_issues.sql", "plan/closed_issues.sql")
			r.write("plan/open_issues.sql", queryText(sqlV2))
			return review.Git{Dir: r.root}, load(t, r.root), map[string]review.Approval{
				"open_issues": {State: review.Drifted, Reason: "differs from the committed content at " + sha,
					Summary: "git " + sha[:12] + " on main"},
				"closed_issues": approved(sha, "main"),
			}
		},
	}, {
		// The text to run was loaded before a new version was committed:
		// what runs is not what HEAD holds, although the disk matches.
		name: "loaded before a new commit",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			r.commit("plan/open_issues.sql")
			queries := load(t, r.root)
			r.write("plan/open_issues.sql", queryText(sqlV2))
			sha := r.commit("plan/open_issues.sql")
			return review.Git{Dir: r.root}, queries, map[string]review.Approval{
				"open_issues": {State: review.Drifted, Reason: "differs from the committed content at " + sha,
					Summary: "git " + sha[:12] + " on main"},
			}
		},
	}, {
		name: "untracked and staged",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			sha := r.commit("plan/open_issues.sql")
			r.write("plan/new_issues.sql", queryText(sqlV1))
			r.write("ci/pipelines.sql", queryText(sqlV1))
			r.add("ci/pipelines.sql")
			summary := "git " + sha[:12] + " on main"
			return review.Git{Dir: r.root}, load(t, r.root), map[string]review.Approval{
				"open_issues": approved(sha, "main"),
				"new_issues": {State: review.Unapproved, Summary: summary,
					Reason: "not committed: plan/new_issues.sql is not in commit " + sha},
				"pipelines": {State: review.Unapproved, Summary: summary,
					Reason: "not committed: ci/pipelines.sql is not in commit " + sha},
			}
		},
	}, {
		// The queries directory is metrics/queries; a file committed at
		// the same path relative to the repository root does not count.
		name: "queries in a subdirectory",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("metrics/queries/plan/open_issues.sql", queryText(sqlV1))
			r.write("plan/closed_issues.sql", queryText(sqlV1))
			sha := r.commit("metrics/queries/plan/open_issues.sql", "plan/closed_issues.sql")
			r.write("metrics/queries/plan/closed_issues.sql", queryText(sqlV1))
			dir := r.dir("metrics/queries")
			return review.Git{Dir: dir}, load(t, dir), map[string]review.Approval{
				"open_issues": approved(sha, "main"),
				"closed_issues": {State: review.Unapproved, Summary: "git " + sha[:12] + " on main",
					Reason: "not committed: metrics/queries/plan/closed_issues.sql is not in commit " + sha},
			}
		},
	}, {
		name: "configured branch",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("queries/plan/open_issues.sql", queryText(sqlV1))
			r.commit("queries/plan/open_issues.sql")
			r.checkout("release", true)
			r.write("queries/plan/open_issues.sql", queryText(sqlV2))
			sha := r.commit("queries/plan/open_issues.sql")
			dir := r.dir("queries")
			return review.Git{Dir: dir, Branch: "release"}, load(t, dir), map[string]review.Approval{
				"open_issues": approved(sha, "release"),
			}
		},
	}, {
		// Dir is a symbolic link to the queries directory in a worktree.
		name: "symlinked queries directory",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("queries/plan/open_issues.sql", queryText(sqlV1))
			sha := r.commit("queries/plan/open_issues.sql")
			link := filepath.Join(t.TempDir(), "queries")
			if err := os.Symlink(r.dir("queries"), link); err != nil {
				t.Fatal(err)
			}
			return review.Git{Dir: link}, load(t, link), map[string]review.Approval{
				"open_issues": approved(sha, "main"),
			}
		},
	}, {
		name: "no queries",
		setup: func(t *testing.T) (review.Git, []*catalog.Query, map[string]review.Approval) {
			r := newRepo(t, "main")
			r.write("README.md", "queries go here\n")
			r.commit("README.md")
			return review.Git{Dir: r.root}, nil, map[string]review.Approval{}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, queries, want := tc.setup(t)
			got, err := g.Approve(t.Context(), queries)
			if err != nil {
				t.Fatalf("Approve: %v", err)
			}
			if len(got) != len(want) {
				t.Errorf("Approve returned %d approvals, want %d: %+v", len(got), len(want), got)
			}
			for name, w := range want {
				if g, ok := got[name]; !ok {
					t.Errorf("%s: no approval, want %+v", name, w)
				} else if !reflect.DeepEqual(g, w) {
					t.Errorf("%s:\n got %+v\nwant %+v", name, g, w)
				}
			}
		})
	}
}

func TestGitErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// setup returns the Git to approve with and the context.
		setup func(t *testing.T) (review.Git, context.Context)
		// wantIs, when set, must be in the error's chain.
		wantIs error
		// want are substrings of the error message.
		want []string
	}{{
		name: "wrong branch",
		setup: func(t *testing.T) (review.Git, context.Context) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			r.commit("plan/open_issues.sql")
			r.checkout("feature", true)
			return review.Git{Dir: r.root}, t.Context()
		},
		want: []string{`HEAD is on branch "feature", not on approval branch "main"`},
	}, {
		name: "wrong configured branch",
		setup: func(t *testing.T) (review.Git, context.Context) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			r.commit("plan/open_issues.sql")
			return review.Git{Dir: r.root, Branch: "release"}, t.Context()
		},
		want: []string{`HEAD is on branch "main", not on approval branch "release"`},
	}, {
		name: "detached HEAD",
		setup: func(t *testing.T) (review.Git, context.Context) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			sha := r.commit("plan/open_issues.sql")
			if err := r.wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(sha)}); err != nil {
				t.Fatal(err)
			}
			return review.Git{Dir: r.root}, t.Context()
		},
		want: []string{"HEAD is detached at ", `not on approval branch "main"`},
	}, {
		name: "no commit",
		setup: func(t *testing.T) (review.Git, context.Context) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			return review.Git{Dir: r.root}, t.Context()
		},
		want: []string{`approval branch "main" has no commit`},
	}, {
		name: "not a repository",
		setup: func(t *testing.T) (review.Git, context.Context) {
			return review.Git{Dir: t.TempDir()}, t.Context()
		},
		wantIs: git.ErrRepositoryNotExists,
		want:   []string{"approve queries with git in ", "open repository: "},
	}, {
		name: "missing directory",
		setup: func(t *testing.T) (review.Git, context.Context) {
			return review.Git{Dir: filepath.Join(t.TempDir(), "queries")}, t.Context()
		},
		wantIs: os.ErrNotExist,
	}, {
		name: "empty Dir",
		setup: func(t *testing.T) (review.Git, context.Context) {
			return review.Git{}, t.Context()
		},
		want: []string{"invalid Dir: empty"},
	}, {
		name: "reference as Branch",
		setup: func(t *testing.T) (review.Git, context.Context) {
			return review.Git{Dir: t.TempDir(), Branch: "refs/heads/main"}, t.Context()
		},
		want: []string{`invalid Branch "refs/heads/main"`},
	}, {
		name: "canceled",
		setup: func(t *testing.T) (review.Git, context.Context) {
			r := newRepo(t, "main")
			r.write("plan/open_issues.sql", queryText(sqlV1))
			r.commit("plan/open_issues.sql")
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return review.Git{Dir: r.root}, ctx
		},
		wantIs: context.Canceled,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, ctx := tc.setup(t)
			queries := []*catalog.Query{{Name: "open_issues", Path: "plan/open_issues.sql", Text: queryText(sqlV1)}}
			got, err := g.Approve(ctx, queries)
			if err == nil {
				t.Fatalf("Approve = %+v, want an error", got)
			}
			if got != nil {
				t.Errorf("Approve returned approvals %+v with error %v", got, err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Approve error %q is not %v", err, tc.wantIs)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Approve error %q does not contain %q", err, w)
				}
			}
		})
	}
}
