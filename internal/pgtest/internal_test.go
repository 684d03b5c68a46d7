package pgtest

import (
	"regexp"
	"strings"
	"testing"
)

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{}
	for _, name := range []string{
		"TestX",
		"TestX",
		"TestParallel/sub_test#01",
		"Test/" + strings.Repeat("Ünïcode-", 20),
		"",
	} {
		got := databaseName(name)
		if len(got) > 63 || !valid.MatchString(got) {
			t.Errorf("databaseName(%q) = %q: not a valid lowercase name of at most 63 bytes", name, got)
		}
		if seen[got] {
			t.Errorf("databaseName(%q) = %q twice", name, got)
		}
		seen[got] = true
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p@h:5/old?sslmode=disable", "postgres://u:p@h:5/new?sslmode=disable"},
		{"postgresql://h", "postgresql://h/new"},
		{"host=h port=5 user=u", "host=h port=5 user=u dbname=new"},
	} {
		got, err := withDatabase(tc.in, "new")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
