package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestFiles checks what goose needs and reviewers expect of every file:
// numbered 00001, 00002, … without gaps, with an Up and a Down section.
func TestFiles(t *testing.T) {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no migrations embedded")
	}
	valid := regexp.MustCompile(`^\d{5}_[a-z0-9_]+\.sql$`)
	for i, name := range names {
		if !valid.MatchString(name) {
			t.Errorf("%s: want a name like 00001_description.sql", name)
		}
		if want := fmt.Sprintf("%05d_", i+1); !strings.HasPrefix(name, want) {
			t.Errorf("%s: want version %s (no gaps, no duplicates)", name, want)
		}
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		up := strings.Index(string(b), "\n-- +goose Up\n")
		down := strings.Index(string(b), "\n-- +goose Down\n")
		if up < 0 || down < up {
			t.Errorf("%s: want a -- +goose Up section followed by a -- +goose Down section", name)
		}
	}
}
