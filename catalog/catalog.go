package catalog

import (
	"cmp"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// A Catalog is a set of valid query files.
type Catalog struct {
	// Queries are the queries without any problem, sorted by name.
	Queries []*Query
	// Invalid are the files that had problems but could still be read as
	// text, sorted by path, with every valid header value and defaults for
	// the rest. They are never to be run; a validator hands them to the
	// guard so that one pass reports the SQL's problems too.
	Invalid []*Query
}

// Lookup returns the query named name.
func (c *Catalog) Lookup(name string) (*Query, bool) {
	i, ok := slices.BinarySearchFunc(c.Queries, name, func(q *Query, name string) int {
		return strings.Compare(q.Name, name)
	})
	if !ok {
		return nil, false
	}
	return c.Queries[i], true
}

// Load loads every file whose name ends in ".sql" anywhere under fsys;
// other files, directories whose names start with "." and directories named
// testdata are skipped.
//
// When any file has a problem, Load returns the catalog of the files
// without problems together with a Problems error listing every problem
// of every file, sorted. A failure to read fsys is returned as another,
// non-Problems error, with a nil catalog.
func Load(fsys fs.FS, cfg Config) (*Catalog, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return fs.SkipDir // testdata: test inputs, as for go build
			}
			return nil
		}
		if strings.HasSuffix(p, ".sql") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load queries: %w", err)
	}
	return load(fsys, cfg, paths)
}

// LoadFiles loads the named files of fsys only (slash-separated paths, as
// for fs.Open), for validating the files an author names. Names and targets
// must be unique among these files. The results are those of Load; a file
// that does not exist is an error, not a problem.
func LoadFiles(fsys fs.FS, cfg Config, paths []string) (*Catalog, error) {
	return load(fsys, cfg, slices.Clone(paths))
}

// load parses the files at paths and checks them against each other. It
// sorts paths in place: the first file by path keeps a contested name.
func load(fsys fs.FS, cfg Config, paths []string) (*Catalog, error) {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("load queries: catalog config: %w", err)
	}
	var (
		all      Problems
		parsed   []*Query
		hasIssue = map[*Query]bool{}
	)
	for _, p := range paths {
		src, problems, err := readFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("load queries: %w", err)
		}
		if problems == nil {
			var q *Query
			q, problems = Parse(p, src, cfg)
			if q != nil {
				parsed = append(parsed, q)
				hasIssue[q] = len(problems) > 0
			}
		}
		if !strings.HasSuffix(p, ".sql") {
			problems = append(problems, Problem{Path: p, Line: 1, Col: 1, Rule: "file/extension",
				Message: "query files end in \".sql\""})
			if len(parsed) > 0 && parsed[len(parsed)-1].Path == p {
				hasIssue[parsed[len(parsed)-1]] = true
			}
		}
		all = append(all, problems...)
	}

	// Names and targets are unique: the first file by path keeps its name
	// or target, later ones have a problem.
	names := map[string]*Query{}
	targets := map[string]*Query{}
	for _, q := range parsed {
		first, dupName := names[q.Name]
		if dupName {
			all = append(all, Problem{Path: q.Path, Line: 1, Col: 1, Rule: "name/duplicate",
				Message: fmt.Sprintf("query name %q is already used by %s; file names must be unique across all directories", q.Name, first.Path),
				related: first.Path})
			hasIssue[q] = true
		} else {
			names[q.Name] = q
		}
		if dupName && q.targetLine == 0 {
			continue // the target is the name: one problem is enough
		}
		if first, ok := targets[q.Target]; ok {
			line, col := max(q.targetLine, 1), max(q.targetCol, 1)
			all = append(all, Problem{Path: q.Path, Line: line, Col: col, Rule: "target/duplicate",
				Message: fmt.Sprintf("target table %q is already written by %s; give one of them another target", q.Target, first.Path),
				related: first.Path})
			hasIssue[q] = true
		} else {
			targets[q.Target] = q
		}
	}

	c := &Catalog{}
	for _, q := range parsed {
		if hasIssue[q] {
			c.Invalid = append(c.Invalid, q)
		} else {
			c.Queries = append(c.Queries, q)
		}
	}
	slices.SortFunc(c.Queries, func(a, b *Query) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Path, b.Path))
	})
	all.sort()
	return c, all.err()
}

// readFile reads one query file. A file that is too large or not a regular
// file is a problem rather than an error.
func readFile(fsys fs.FS, p string) ([]byte, Problems, error) {
	problem := func(rule, format string, args ...any) Problems {
		return Problems{{Path: p, Line: 1, Col: 1, Rule: rule, Message: fmt.Sprintf(format, args...)}}
	}
	info, err := fs.Lstat(fsys, p)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return nil, problem("file/not-regular", "query files must be regular files, not symbolic links"), nil
	case !info.Mode().IsRegular():
		return nil, problem("file/not-regular", "query files must be regular files"), nil
	case info.Size() > MaxFileSize:
		return nil, problem("file/size", "file is %d bytes; the limit is %d (256 KiB)", info.Size(), MaxFileSize), nil
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = f.Close() }() // read-only: a close error loses nothing
	// Read one byte more than allowed so that Parse sees a file that grew
	// since Stat as too large, without reading all of it.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", p, err)
	}
	return src, nil, nil
}

// Suggest returns the name of the catalog's query that name most likely
// misspells, or "", for "did you mean" messages about query names.
func (c *Catalog) Suggest(name string) string {
	names := make([]string, len(c.Queries))
	for i, q := range c.Queries {
		names[i] = q.Name
	}
	return suggest(name, names)
}
