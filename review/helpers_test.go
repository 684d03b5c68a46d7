package review_test

import (
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gitlab.com/metricgate/metricgate/catalog"
)

// queryText is a valid query file whose SQL is sql.
func queryText(sql string) string {
	return "-- description: Open issues per month.\n" +
		"-- owner: @some-pm\n" +
		"-- group_size: issue_count\n" +
		"\n" + sql + "\n"
}

const (
	sqlV1 = "SELECT count(*) AS issue_count FROM issues"
	sqlV2 = "SELECT count(*) AS issue_count FROM issues WHERE NOT confidential"
)

// A testRepo is a git repository in a temporary directory.
type testRepo struct {
	t       *testing.T
	root    string
	repo    *git.Repository
	wt      *git.Worktree
	commits int
}

// newRepo initialises a repository whose HEAD is the unborn branch named
// branch.
func newRepo(t *testing.T, branch string) *testRepo {
	t.Helper()
	root := t.TempDir()
	repo, err := git.PlainInitWithOptions(root, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &testRepo{t: t, root: root, repo: repo, wt: wt}
}

// dir is the OS path of the slash path p within the worktree.
func (r *testRepo) dir(p string) string { return filepath.Join(r.root, filepath.FromSlash(p)) }

// write writes text to the slash path p within the worktree.
func (r *testRepo) write(p, text string) {
	r.t.Helper()
	name := r.dir(p)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// add stages the slash paths.
func (r *testRepo) add(paths ...string) {
	r.t.Helper()
	for _, p := range paths {
		if _, err := r.wt.Add(p); err != nil {
			r.t.Fatal(err)
		}
	}
}

// commit stages the slash paths and commits the index, returning the
// commit's SHA.
func (r *testRepo) commit(paths ...string) string {
	r.t.Helper()
	r.add(paths...)
	r.commits++
	sig := &object.Signature{Name: "Ada Author", Email: "ada@example.com",
		When: time.Date(2025, 1, 2, 3, 4, r.commits, 0, time.UTC)}
	h, err := r.wt.Commit("add "+path.Join(paths...), &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// checkout checks out branch, creating it at HEAD if create.
func (r *testRepo) checkout(branch string, create bool) {
	r.t.Helper()
	err := r.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create})
	if err != nil {
		r.t.Fatal(err)
	}
}

// load loads the catalog of the queries directory dir, which must hold
// only valid files.
func load(t *testing.T, dir string) []*catalog.Query {
	t.Helper()
	c, err := catalog.Load(os.DirFS(dir), catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Queries
}
