package catalog

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics and that what it returns keeps
// its promises. The seed corpus is in testdata/fuzz/FuzzParse; go test runs
// it, go test -fuzz=FuzzParse explores from it.
func FuzzParse(f *testing.F) {
	f.Add("a/q.sql", []byte(head+body))
	f.Fuzz(func(t *testing.T, path string, src []byte) {
		q, ps := Parse(path, src, Config{})

		lines := strings.Split(string(src), "\n")
		for _, p := range ps {
			if p.Path != path || p.Line < 1 || p.Col < 1 || p.Rule == "" || p.Message == "" {
				t.Fatalf("malformed problem %+v", p)
			}
			if p.Line > len(lines) {
				t.Fatalf("problem beyond the last line %d: %v", len(lines), p)
			}
			if n := utf8.RuneCountInString(lines[p.Line-1]); p.Col > n+1 {
				t.Fatalf("problem beyond the end of line %d (%d characters): %v", p.Line, n, p)
			}
		}
		if !slices.IsSortedFunc(ps, func(a, b Problem) int {
			return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		}) {
			t.Fatalf("problems not sorted: %v", ps)
		}
		if q == nil {
			if len(ps) == 0 {
				t.Fatal("no query and no problem")
			}
			return
		}
		if q.Text != string(src) || len(q.SHA256) != 64 || q.Path != path {
			t.Fatalf("query does not describe its file: %q %q %q", q.Path, q.SHA256, q.Text)
		}
		if len(ps) > 0 {
			return
		}
		switch {
		case q.Description == "" || q.Owner == "" || len(q.Owners) == 0 || q.GroupSize == "":
			t.Fatalf("valid query without a required field: %+v", q)
		case !isTableName(q.Name) || !isTableName(q.Target) || !isIdent(q.GroupSize):
			t.Fatalf("valid query with a bad name, target or group_size: %+v", q)
		case q.MinGroupSize < DefaultMinGroupSize || q.Timeout <= 0 || q.Timeout > DefaultMaxTimeout ||
			q.MaxRows < 1 || q.MaxRows > MaxRowsLimit || q.MaxCost < 0:
			t.Fatalf("valid query with a value out of range: %+v", q)
		case q.Load != LoadAppend && q.Load != LoadReplace:
			t.Fatalf("valid query with load %q", q.Load)
		case q.Schedule.Period() <= 0 || q.Schedule.Spec == "":
			t.Fatalf("valid query with schedule %+v", q.Schedule)
		case q.BodyLine < 1 || q.BodyLine > len(lines) || strings.TrimSpace(lines[q.BodyLine-1]) == "":
			t.Fatalf("valid query with body line %d", q.BodyLine)
		}
		for _, o := range q.Owners {
			if !isHandle(o) {
				t.Fatalf("valid query with owner %q", o)
			}
		}
		for _, tag := range q.Tags {
			if !isTag(tag) {
				t.Fatalf("valid query with tag %q", tag)
			}
		}
	})
}
