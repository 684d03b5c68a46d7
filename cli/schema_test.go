package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/schema"
)

// TestSchemaCommands runs schema draft and validate --source against a
// gitlabfake database: drafted entries of tables the catalog lacks parse
// and classify conservatively, the columns a catalogued table lacks are
// listed, and validate reports drift located in the catalog file.
func TestSchemaCommands(t *testing.T) {
	t.Parallel()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(t.Context(), pgtest.Connect(t, src), gitlabfake.Options{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	shipped, err := os.ReadFile("../schema.yml")
	if err != nil {
		t.Fatal(err)
	}
	dumpYML, err := os.ReadFile("../dump.yml")
	if err != nil {
		t.Fatal(err)
	}
	// The shipped catalog without users and issues, and with labels'
	// lock_on_merge misspelt: two tables to draft, one column to add, one
	// to report as drift.
	cat := regexp.MustCompile(`(?ms)^  (users|issues|issue_metrics|epic_issues):\n.*?\n\n`).ReplaceAllString(string(shipped)+"\n", "")
	cat = strings.Replace(cat, "      lock_on_merge: category\n", "      lock_on_merges: category\n", 1)
	catPath := write("catalog.yml", cat)
	config := write("metricgate.yml", "guard:\n  schema: "+catPath+"\ndump:\n  config: "+write("dump.yml", string(dumpYML))+"\n")
	runCmd := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		return code, stdout.String(), stderr.String()
	}

	t.Run("draft new tables", func(t *testing.T) {
		code, stdout, stderr := runCmd("schema", "draft", "--config", config, "--source", src, "users", "issues")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "2 new tables") || !strings.Contains(stderr, "a security owner must review each one") {
			t.Errorf("stderr does not ask for a security review:\n%s", stderr)
		}
		c, err := schema.Parse("draft.yml", []byte("version: draft\ntables:\n"+stdout))
		if err != nil {
			t.Fatalf("the drafted entries do not parse: %v\n%s", err, stdout)
		}
		for _, want := range []struct {
			table, column string
			class         schema.Class
		}{
			{"users", "email", schema.Red},
			{"users", "username", schema.Red},
			{"users", "name", schema.Red},
			{"users", "encrypted_password", schema.Red},
			{"users", "current_sign_in_ip", schema.Red},
			{"users", "id", schema.Key},
			{"users", "admin", schema.Category},
			{"users", "user_type", schema.Category},
			{"issues", "author_id", schema.Key},
			{"issues", "title", schema.Text},
			{"issues", "description", schema.Text},
			{"issues", "created_at", schema.Time},
			{"issues", "due_date", schema.Time},
			{"issues", "confidential", schema.Category},
			{"issues", "state_id", schema.Key}, // *_id: a reviewer makes it category
			{"issues", "weight", schema.Measure},
		} {
			tb := c.Table(want.table)
			if tb == nil {
				t.Fatalf("no entry drafted for %s:\n%s", want.table, stdout)
			}
			got, ok := tb.Column(want.column)
			if !ok || got != want.class {
				t.Errorf("%s.%s drafted as %q (listed %v), want %q", want.table, want.column, got, ok, want.class)
			}
		}
		if e := c.Table("issues").Entity; len(e) != 1 || e[0] != "author_id" {
			t.Errorf("issues: entity %v, want [author_id]", e)
		}
		if e := c.Table("users").Entity; len(e) != 1 || e[0] != "id" {
			t.Errorf("users: entity %v, want [id]", e)
		}
	})

	t.Run("draft missing columns", func(t *testing.T) {
		code, stdout, stderr := runCmd("schema", "draft", "--config", config, "--source", src, "labels", "notes")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		want := "  # labels is catalogued: merge these columns into its entry.\n  labels:\n    columns:\n      lock_on_merge: category\n"
		if !strings.Contains(stdout, want) || strings.Contains(stdout, "notes") || !strings.Contains(stderr, "0 new tables, 1 new column") {
			t.Errorf("draft of labels and notes:\n%s\n%s\nwant only:\n%s", stdout, stderr, want)
		}
	})

	t.Run("draft usage", func(t *testing.T) {
		if code, _, stderr := runCmd("schema", "draft", "--config", config); code != ExitUsage || !strings.Contains(stderr, "--source URL is required") {
			t.Errorf("without --source: exit %d, %q", code, stderr)
		}
		if code, _, _ := runCmd("schema", "list"); code != ExitUsage {
			t.Errorf("schema list: exit %d, want %d", code, ExitUsage)
		}
		if code, _, stderr := runCmd("schema", "draft", "--config", config, "--source", src, "nosuchtable"); code != ExitProblems || !strings.Contains(stderr, "the source has no table nosuchtable") {
			t.Errorf("an unknown table: exit %d, %q", code, stderr)
		}
	})

	t.Run("validate drift", func(t *testing.T) {
		query := write("q.sql", "-- description: d\n-- owner: @o\n-- group_size: n\nSELECT count(*) AS n FROM notes\n")
		code, _, stderr := runCmd("validate", "--config", config, "--source", src, query)
		before, _, _ := strings.Cut(cat, "lock_on_merges")
		line := strings.Count(before, "\n") + 1
		for _, want := range []string{
			catPath + ":" + strconv.Itoa(line) + ":7: warning: labels.lock_on_merges is catalogued but the source has no such column",
			"warning: source column labels.lock_on_merge is not catalogued: add it to catalog.yml (security owners review it)",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("validate --source does not report %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, "source column users.") {
			t.Errorf("validate --source reports a table the catalog does not list as drift:\n%s", stderr)
		}
		if code != ExitOK {
			t.Errorf("validate --source with drift only: exit %d, want %d (drift warns, it does not fail)", code, ExitOK)
		}
	})
}

// TestSchemaCatalogRedColumns checks that the shipped schema.yml classes
// red every column a default red-column pattern of the guard matches: the
// catalog may be stricter than the patterns, never looser.
func TestSchemaCatalogRedColumns(t *testing.T) {
	t.Parallel()
	c, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(guard.Config{})
	if err != nil {
		t.Fatal(err)
	}
	red := 0
	for _, tb := range c.Tables() {
		for _, col := range tb.Order {
			if g.IsRed(tb.Name, col) {
				red++
				if cl, _ := tb.Column(col); cl != schema.Red {
					t.Errorf("schema.yml: %s.%s is %s, but it matches a red-column pattern of the guard: make it red", tb.Name, col, cl)
				}
			}
		}
	}
	if red == 0 {
		t.Error("no catalogued column matches a red-column pattern")
	}
}
