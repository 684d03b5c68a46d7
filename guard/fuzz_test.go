package guard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// FuzzCheck feeds arbitrary text to the guard: it must never panic, every
// violation must be located inside the text, and an accepted text must be
// exactly one plain SELECT whose group-size column is a count, that counts
// the people behind its rows, and whose rewrite (Analysis.SQL) only adds to
// it.
func FuzzCheck(f *testing.F) {
	// The corpus's accepted queries on the catalogued tables first, then
	// its rejected ones. The corpus's 50 KB operator chains are
	// TestCorpus's to run: as seeds, mutating and minimizing them starves
	// the fuzzer.
	for _, accepted := range []bool{true, false} {
		for _, tc := range corpus {
			if (tc.want == nil) == accepted && len(tc.sql) <= 4<<10 {
				f.Add(tc.sql)
			}
		}
	}
	// The small hostile files too (testdata/hostile): whole files, headers
	// and all, as validate hands them to Check.
	hostile, err := filepath.Glob("testdata/hostile/*/*.sql")
	if err != nil || len(hostile) == 0 {
		f.Fatalf("no hostile files: %v", err)
	}
	for _, p := range hostile {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 2<<10 {
			f.Add(string(b))
		}
	}
	g := testGuard(f)
	f.Fuzz(func(t *testing.T, src string) {
		an, vs := g.Check(src, "n")
		lines := strings.Count(src, "\n") + 1
		for _, v := range vs {
			if v.Rule == "" || v.Message == "" {
				t.Fatalf("violation without rule or message: %+v", v)
			}
			if v.Offset < 0 || v.Offset > len(src) {
				t.Fatalf("offset %d outside the text (%d bytes): %+v", v.Offset, len(src), v)
			}
			if v.Line < 1 || v.Line > lines || v.Col < 1 {
				t.Fatalf("position %d:%d outside the text (%d lines): %+v", v.Line, v.Col, lines, v)
			}
		}
		if len(vs) > 0 {
			return
		}
		if !utf8.ValidString(src) || strings.IndexByte(src, 0) >= 0 {
			t.Fatalf("accepted text with NUL or invalid UTF-8: %q", src)
		}
		tree, err := pg.Parse(src)
		if err != nil {
			t.Fatalf("accepted text that does not parse: %q: %v", src, err)
		}
		if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil {
			t.Fatalf("accepted something other than one SELECT: %q", src)
		}
		found := false
		for _, c := range an.Columns {
			if c.Name == "n" {
				found = c.Kind == Aggregate
			}
		}
		if !found {
			t.Fatalf("accepted without an aggregate group-size column n: %q (%+v)", src, an.Columns)
		}
		if len(an.Entities) == 0 {
			t.Fatalf("accepted without counting anyone: %q", src)
		}
		if p := rewriteProblem(an, src); p != "" {
			t.Fatalf("accepted %q, but its rewrite is wrong: %s\n%s", src, p, an.SQL(7))
		}
	})
}
