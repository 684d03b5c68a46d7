package catalog

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
)

// A Problem is one thing wrong with one query file, located compiler-style.
type Problem struct {
	// Path is the file's slash-separated path within the loaded fs.FS.
	Path string
	// Line and Col are 1-based; Col counts characters (runes), not bytes.
	// A problem about the file as a whole is at 1:1.
	Line, Col int
	// Rule is a stable identifier of the kind of problem, such as
	// "header/unknown-key"; doc.go lists them all. Tools such as a GitLab
	// code-quality report use it as the check name.
	Rule string
	// Message says what is wrong and, where it can, how to fix it.
	Message string

	related string // the path of another file that Message names, if any
}

// String renders p as "path:line:col: message".
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.Path, p.Line, p.Col, p.Message)
}

// Problems is a list of problems, sorted by path, line and column. A
// non-empty Problems is the error Load, LoadFiles and Parse report for
// invalid query files; get it back with errors.As.
type Problems []Problem

// Error renders every problem on its own line.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// WithDir returns a copy of ps with dir joined in front of every path, the
// paths of other files that messages name included, for printing paths
// relative to the repository rather than to the loaded fs.FS:
// Load(os.DirFS("queries"), cfg) reports "a/b.sql", and WithDir("queries")
// makes it "queries/a/b.sql".
func (ps Problems) WithDir(dir string) Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		p.Path = path.Join(dir, p.Path)
		if p.related != "" {
			joined := path.Join(dir, p.related)
			p.Message = strings.Replace(p.Message, " by "+p.related+";", " by "+joined+";", 1)
			p.related = joined
		}
		out[i] = p
	}
	return out
}

// sort orders ps by path, line, column, then rule and message so that the
// order never depends on the order of discovery.
func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			strings.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Message, b.Message),
		)
	})
}

// err returns ps as an error, or nil when there is no problem.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
