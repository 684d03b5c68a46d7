package catalog

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// repo is a queries directory with good and bad files of every kind.
func repo() fstest.MapFS {
	return fstest.MapFS{
		"code_review/mr_merge_time.sql": file(head + "-- schedule: weekly\n" + body),
		"issues/open_issues.sql":        file(head + "-- load: replace\n" + body),
		"issues/README.md":              file("# Issues\n"),
		"issues/notes.txt":              file("not a query"),
		".drafts/draft.sql":             file("not even a header"),
		"issues/bad_header.sql":         file(head + "-- schedul: daily\n-- timeout: 10\n" + body),
		"plan/mr_merge_time.sql":        file(head + body),
		"plan/epics.sql":                file(head + "-- target: open_issues\n" + body),
		"Bad-Name.sql":                  file(head + body),
		"ci/binary.sql":                 file(head + "\x00" + body),
		"top_level.sql":                 file(head + body),
		"linked.sql":                    &fstest.MapFile{Data: []byte("top_level.sql"), Mode: fs.ModeSymlink},
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	c, err := Load(repo(), Config{})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load error = %v, want Problems", err)
	}
	want := []string{
		`name/invalid Bad-Name.sql:1:1: file name "Bad-Name.sql" does not make a valid query name: use lowercase letters, digits and underscores, starting with a letter (rename the file to "bad_name.sql")`,
		`file/nul ci/binary.sql:4:1: file contains a NUL byte; query files are text`,
		`header/unknown-key issues/bad_header.sql:4:4: unknown header key "schedul" (did you mean "schedule"?)`,
		`value/timeout issues/bad_header.sql:5:13: timeout "10" is not a duration such as "10m" or "1h30m"`,
		`file/not-regular linked.sql:1:1: query files must be regular files, not symbolic links`,
		`target/duplicate plan/epics.sql:4:12: target table "open_issues" is already written by issues/open_issues.sql; give one of them another target`,
		`name/duplicate plan/mr_merge_time.sql:1:1: query name "mr_merge_time" is already used by code_review/mr_merge_time.sql; file names must be unique across all directories`,
	}
	if got := render(ps); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := err.Error(); !strings.HasPrefix(got, "Bad-Name.sql:1:1: file name") || strings.Count(got, "\n") != len(want)-1 {
		t.Errorf("Error() = %q, want one line per problem", got)
	}

	if got := queryPaths(c.Queries); !slices.Equal(got, []string{
		"code_review/mr_merge_time.sql", "issues/open_issues.sql", "top_level.sql",
	}) {
		t.Errorf("Queries = %q", got)
	}
	if got := queryPaths(c.Invalid); !slices.Equal(got, []string{
		"Bad-Name.sql", "issues/bad_header.sql", "plan/epics.sql", "plan/mr_merge_time.sql",
	}) {
		t.Errorf("Invalid = %q", got)
	}

	q, ok := c.Lookup("open_issues")
	if !ok || q.Path != "issues/open_issues.sql" || q.Area != "issues" || q.Load != LoadReplace {
		t.Errorf("Lookup(open_issues) = %+v, %v", q, ok)
	}
	if q, ok := c.Lookup("top_level"); !ok || q.Area != "" {
		t.Errorf("Lookup(top_level) = %+v, %v", q, ok)
	}
	for _, name := range []string{"epics", "bad_header", "missing", ""} {
		if q, ok := c.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %+v, want none", name, q)
		}
	}
}

func TestLoadClean(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"b/second.sql":            file(head + body),
		"a/first.sql":             file(head + body),
		"a/testdata/corpus/x.sql": file("test input, not a query: no header"),
	}
	c, err := Load(fsys, Config{})
	if err != nil {
		t.Fatalf("Load: %v", err) // must be an untyped nil, not an empty Problems
	}
	if got := queryPaths(c.Queries); !slices.Equal(got, []string{"a/first.sql", "b/second.sql"}) {
		t.Errorf("Queries = %q", got)
	}
}

func TestLoadFiles(t *testing.T) {
	t.Parallel()
	fsys := repo()
	fsys["issues/copy.txt"] = file(head + body)

	// Only the named files count: plan/mr_merge_time.sql is no duplicate
	// when code_review/mr_merge_time.sql is not among them.
	c, err := LoadFiles(fsys, Config{}, []string{"plan/mr_merge_time.sql", "issues/open_issues.sql", "plan/mr_merge_time.sql"})
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	if got := queryPaths(c.Queries); !slices.Equal(got, []string{"plan/mr_merge_time.sql", "issues/open_issues.sql"}) {
		t.Errorf("Queries = %q", got)
	}

	// Duplicates among the named files are found.
	_, err = LoadFiles(fsys, Config{}, []string{"plan/epics.sql", "issues/open_issues.sql", "issues/copy.txt"})
	want := "issues/copy.txt:1:1: query files end in \".sql\"\n" +
		"plan/epics.sql:4:12: target table \"open_issues\" is already written by issues/open_issues.sql; give one of them another target"
	if err == nil || err.Error() != want {
		t.Errorf("LoadFiles error:\n%v\nwant:\n%s", err, want)
	}

	// A missing file is an error, not a problem.
	c, err = LoadFiles(fsys, Config{}, []string{"issues/open_issues.sql", "nope.sql"})
	var ps Problems
	if c != nil || !errors.Is(err, fs.ErrNotExist) || errors.As(err, &ps) {
		t.Errorf("LoadFiles(missing) = %v, %v; want nil and fs.ErrNotExist", c, err)
	}
}

// failFS fails to open one file.
type failFS struct {
	fs.FS
	fail string
}

func (f failFS) Open(name string) (fs.File, error) {
	if name == f.fail {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.FS.Open(name)
}

func TestLoadIOError(t *testing.T) {
	t.Parallel()
	for _, fail := range []string{"issues", "issues/open_issues.sql"} {
		c, err := Load(failFS{repo(), fail}, Config{})
		var ps Problems
		if c != nil || !errors.Is(err, fs.ErrPermission) || errors.As(err, &ps) {
			t.Errorf("Load with %s unreadable = %v, %v; want nil and fs.ErrPermission", fail, c, err)
		}
	}
}

func TestLoadBadConfig(t *testing.T) {
	t.Parallel()
	c, err := Load(repo(), Config{Sources: []string{"prod"}})
	var ps Problems
	if c != nil || err == nil || errors.As(err, &ps) ||
		err.Error() != `load queries: catalog config: invalid DefaultSource "main": not one of Sources ["prod"]` {
		t.Errorf("Load with bad config = %v, %v", c, err)
	}
}

func queryPaths(qs []*Query) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.Path)
	}
	return out
}
