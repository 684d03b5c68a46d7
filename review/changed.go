package review

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Changes are the query files of a merge request: what differs between
// the queries directory on disk and the same directory in a base commit.
type Changes struct {
	// Changed are the .sql files (slash paths relative to the directory)
	// added or modified since the base, sorted.
	Changed []string
	// Removed are the .sql files in the base that are gone, sorted.
	Removed []string
	// Base is the full SHA of the base commit.
	Base string
}

// Changed compares the .sql files under dir, as they are on disk, with the
// same directory in the commit base names: a SHA (such as
// CI_MERGE_REQUEST_DIFF_BASE_SHA) or a branch, looked up as origin/<name>
// first and then as a local branch. The repository is found by walking up
// from dir; the base commit must be in it (a shallow clone may lack it:
// fetch more history, e.g. GIT_DEPTH: 0 in GitLab CI).
func Changed(dir, base string) (*Changes, error) {
	prefix, ok := RepoPrefix(dir)
	if !ok {
		return nil, fmt.Errorf("compare %s with %s: not inside a git checkout", dir, base)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: open repository: %w", dir, base, err)
	}
	var hash *plumbing.Hash
	for _, rev := range []string{base, "refs/remotes/origin/" + base, "refs/heads/" + base} {
		if hash, err = repo.ResolveRevision(plumbing.Revision(rev)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: no such commit or branch in the checkout (shallow clone? fetch the target branch): %w", dir, base, err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: read commit %s: %w", dir, base, hash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: read tree: %w", dir, base, err)
	}
	if prefix != "." {
		tree, err = tree.Tree(prefix)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			tree = nil // the directory is new
		} else if err != nil {
			return nil, fmt.Errorf("compare %s with %s: read %s: %w", dir, base, prefix, err)
		}
	}
	ch := &Changes{Base: hash.String()}
	onDisk := map[string]bool{}
	err = fs.WalkDir(os.DirFS(abs), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sql") {
			return err
		}
		onDisk[p] = true
		data, err := os.ReadFile(filepath.Join(abs, filepath.FromSlash(p)))
		if err != nil {
			return err
		}
		if tree == nil {
			ch.Changed = append(ch.Changed, p)
			return nil
		}
		entry, err := tree.FindEntry(p)
		if err != nil || entry.Hash != blobHash(string(data)) {
			ch.Changed = append(ch.Changed, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: %w", dir, base, err)
	}
	if tree == nil {
		return ch, nil
	}
	err = tree.Files().ForEach(func(f *object.File) error {
		if strings.HasSuffix(f.Name, ".sql") && !onDisk[path.Clean(f.Name)] {
			ch.Removed = append(ch.Removed, f.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compare %s with %s: list the base's files: %w", dir, base, err)
	}
	slices.Sort(ch.Removed)
	return ch, nil
}
