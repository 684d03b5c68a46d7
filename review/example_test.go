package review_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/review"
)

func ExampleGit() {
	// A checkout of main whose queries directory is metrics/queries.
	root, err := os.MkdirTemp("", "review-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	repo, err := git.PlainInitWithOptions(root, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		panic(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		panic(err)
	}
	dir := filepath.Join(root, "metrics", "queries")
	write := func(p, sql string) {
		text := "-- description: An example.\n-- owner: @some-pm\n-- group_size: n\n\n" + sql + "\n"
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(text), 0o644); err != nil {
			panic(err)
		}
	}

	// Two files committed, one of them edited since, and one new file.
	write("plan/open_issues.sql", "SELECT count(*) AS n FROM issues")
	write("ci/pipelines.sql", "SELECT count(*) AS n FROM ci_pipelines")
	if _, err := wt.Add("metrics"); err != nil {
		panic(err)
	}
	sig := &object.Signature{Name: "Ada", Email: "ada@example.com", When: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	head, err := wt.Commit("add queries", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		panic(err)
	}
	write("ci/pipelines.sql", "SELECT count(*) AS n FROM ci_pipelines WHERE status = 'success'")
	write("plan/closed_issues.sql", "SELECT count(*) AS n FROM issues WHERE closed_at IS NOT NULL")

	c, err := catalog.Load(os.DirFS(dir), catalog.Config{})
	if err != nil {
		panic(err)
	}
	approvals, err := review.Git{Dir: dir}.Approve(context.Background(), c.Queries)
	if err != nil {
		panic(err)
	}
	for _, q := range c.Queries {
		a := approvals[q.Name]
		fmt.Println(q.Name, a.State, a.OK(), a.Commit == head.String())
	}
	// Output:
	// closed_issues unapproved false false
	// open_issues approved true true
	// pipelines drifted false false
}

func ExampleNone() {
	queries := []*catalog.Query{{Name: "open_issues", Path: "plan/open_issues.sql"}}
	approvals, err := review.None{}.Approve(context.Background(), queries)
	if err != nil {
		panic(err)
	}
	a := approvals["open_issues"]
	fmt.Println(a.State, a.OK(), a.Summary)
	// Output:
	// approved true none (development only)
}
