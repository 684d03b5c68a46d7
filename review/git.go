package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"gitlab.com/metricgate/metricgate/catalog"
)

// DefaultBranch is the branch Git approves from when Git.Branch is empty.
const DefaultBranch = "main"

// Git approves the queries whose text is committed, unchanged, at HEAD of
// the configured branch of the git checkout holding the queries
// directory. The zero value of each field means its default. A Git is
// safe for concurrent use: each Approve reads the repository afresh.
type Git struct {
	// Dir is the queries directory on disk, the root of the fs.FS the
	// catalog was loaded from; Query.Path is relative to it. It must be
	// inside a git worktree (the repository is found by walking up from
	// Dir). Required.
	Dir string
	// Branch is the short name of the branch HEAD must be on, such as
	// "main". Default DefaultBranch.
	Branch string
}

// validate reports the first field of g that cannot work.
func (g Git) validate() error {
	if g.Dir == "" {
		return errors.New("invalid Dir: empty")
	}
	if strings.HasPrefix(g.Branch, "refs/") {
		return fmt.Errorf("invalid Branch %q: a reference name, want a branch name such as %q", g.Branch, DefaultBranch)
	}
	return nil
}

// Approve decides each query: Approved, with Commit set to HEAD's SHA,
// when its text is the content of its file in HEAD's tree; Drifted when
// the file is in the tree with other content; Unapproved when it is not
// in the tree. It returns an error, and no approvals, when the repository
// cannot be read, or HEAD is not the configured branch or has no commit.
func (g Git) Approve(ctx context.Context, queries []*catalog.Query) (map[string]Approval, error) {
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("approve queries with git: %w", err)
	}
	c, err := openCheckout(g.Dir, cmp.Or(g.Branch, DefaultBranch))
	if err != nil {
		return nil, fmt.Errorf("approve queries with git in %s: %w", g.Dir, err)
	}
	summary := fmt.Sprintf("git %s on %s", c.commit[:12], c.branch)
	approvals := make(map[string]Approval, len(queries))
	for _, q := range queries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("approve queries with git: %w", context.Cause(ctx))
		}
		a, err := c.approve(q)
		if err != nil {
			return nil, fmt.Errorf("approve query %q with git: %w", q.Name, err)
		}
		a.Summary = summary
		approvals[q.Name] = a
	}
	return approvals, nil
}

// A checkout is the state of the repository that one Approve decides
// against.
type checkout struct {
	branch string       // short name of HEAD's branch
	commit string       // full SHA of HEAD's commit
	tree   *object.Tree // HEAD's tree
	prefix string       // the queries directory's slash path in the tree, "." at its root
}

// openCheckout opens the repository holding dir and reads HEAD, which must
// be the branch named branch.
func openCheckout(dir, branch string) (*checkout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// Resolve symbolic links first: go-git walks up the path as written
	// and reports the worktree root the same way.
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open worktree: %w", err)
	}
	rel, err := filepath.Rel(wt.Filesystem.Root(), abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("queries directory %s is not inside worktree %s", abs, wt.Filesystem.Root())
	}

	head, err := repo.Reference(plumbing.HEAD, false)
	if err != nil {
		return nil, fmt.Errorf("read HEAD: %w", err)
	}
	want := plumbing.NewBranchReferenceName(branch)
	switch {
	case head.Type() == plumbing.HashReference:
		return nil, fmt.Errorf("HEAD is detached at %s, not on approval branch %q", head.Hash(), branch)
	case head.Target() != want:
		return nil, fmt.Errorf("HEAD is on branch %q, not on approval branch %q", head.Target().Short(), branch)
	}
	ref, err := repo.Reference(want, true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, fmt.Errorf("approval branch %q has no commit", branch)
	}
	if err != nil {
		return nil, fmt.Errorf("read branch %q: %w", branch, err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", ref.Hash(), err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of commit %s: %w", commit.Hash, err)
	}
	return &checkout{branch: branch, commit: commit.Hash.String(), tree: tree, prefix: filepath.ToSlash(rel)}, nil
}

// approve decides q against c; it sets neither Summary nor, unless
// approved, Commit.
func (c *checkout) approve(q *catalog.Query) (Approval, error) {
	p := path.Join(c.prefix, q.Path)
	entry, err := c.tree.FindEntry(p)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return Approval{State: Unapproved, Reason: fmt.Sprintf("not committed: %s is not in commit %s", p, c.commit)}, nil
	}
	if err != nil {
		return Approval{}, fmt.Errorf("look up %s in commit %s: %w", p, c.commit, err)
	}
	if entry.Mode != filemode.Regular && entry.Mode != filemode.Executable && entry.Mode != filemode.Deprecated {
		return Approval{State: Unapproved, Reason: fmt.Sprintf("not a regular file in commit %s: %s", c.commit, p)}, nil
	}
	if entry.Hash != blobHash(q.Text) {
		return Approval{State: Drifted, Reason: fmt.Sprintf("differs from the committed content at %s", c.commit)}, nil
	}
	return Approval{State: Approved, Commit: c.commit}, nil
}

// blobHash is the git object ID of a blob holding text:
// sha1("blob <len>\x00" + text), as git hash-object computes it.
func blobHash(text string) plumbing.Hash {
	return plumbing.ComputeHash(plumbing.BlobObject, []byte(text))
}
