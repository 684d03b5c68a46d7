package schema_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/schema"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestParseProblems checks that Parse reports every problem of a file at
// once, each at the line and column of the offending token.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	const file = `version: 2026-12-07.1
tables:
  issues:
    entity: [author_id, project_id, assignee_id]
    columns:
      id: key
      author_id: key
      project_id: measure
      title: txt
      id: key
  issues:
    entity: []
    columns: {}
  labels:
    columns:
      id: key
    colour: red
color: blue
`
	_, err := schema.Parse("schema.yml", []byte(file))
	if err == nil {
		t.Fatal("Parse accepted a catalog with problems")
	}
	ps, ok := errors.AsType[schema.Problems](err)
	if !ok {
		t.Fatalf("Parse returned %T, want schema.Problems: %v", err, err)
	}
	want := []string{
		`schema.yml:18:1: unknown key "color" (the catalog has version and tables)`,
		`schema.yml:9:14: table issues: column title: unknown class "txt" (one of key, category, measure, time, text, red)`,
		`schema.yml:10:7: table issues: column id is listed twice`,
		`schema.yml:4:25: table issues: entity column project_id must have class key, not measure`,
		`schema.yml:4:37: table issues: entity column assignee_id is not in its columns`,
		`schema.yml:11:3: table issues is listed twice`,
		`schema.yml:17:5: table labels: unknown key "colour"`,
		`schema.yml:14:3: table labels: entity is missing: list the columns that identify the person behind a row, or [] if none does`,
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Error())
	}
	// Each wanted problem is the start of the one reported: the exact
	// position and the message up to any hint in parentheses.
	match := len(got) == len(want)
	for i := 0; match && i < len(want); i++ {
		match = strings.HasPrefix(got[i], want[i])
	}
	if !match {
		t.Errorf("problems:\n%s\nwant (prefixes):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseMissing checks the problems of a file without version or tables.
func TestParseMissing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, want string }{
		{"tables: {}\n", "schema.yml:1:1: version is missing: reviewers bump it on every change"},
		{"version: 1\n", "schema.yml:1:1: tables is missing or not a mapping of table names"},
		{"- a\n", "schema.yml:1:1: the catalog is a mapping with keys version and tables"},
		{"version: [\n", "schema.yml:1:1: not YAML"},
	} {
		_, err := schema.Parse("schema.yml", []byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.file, err, c.want)
		}
	}
}

// TestShippedCatalogParses loads the repository's schema.yml and checks the
// entity keys the security review relies on.
func TestShippedCatalogParses(t *testing.T) {
	t.Parallel()
	c, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version == "" {
		t.Error("schema.yml has no version")
	}
	entities := map[string][]string{
		"users": {"id"}, "members": {"user_id"}, "issues": {"author_id"}, "notes": {"author_id"},
		"merge_requests": {"author_id"}, "events": {"author_id"}, "approvals": {"user_id"},
		"issue_assignees": {"user_id"}, "merge_request_assignees": {"user_id"},
		"merge_request_reviewers": {"user_id"}, "deployments": {"user_id"},
		"ci_pipelines": {"user_id"}, "p_ci_pipelines": {"user_id"}, "ci_builds": {"user_id"},
		"p_ci_builds": {"user_id"}, "epics": {"author_id"}, "banned_users": {"user_id"},
		"milestones": nil, "labels": nil, "label_links": nil, "projects": nil, "namespaces": nil,
		"routes": nil, "project_features": nil, "project_statistics": nil, "organizations": nil,
		"issue_metrics": nil, "merge_request_metrics": nil, "merge_request_diffs": nil,
		"merge_requests_closing_issues": nil, "epic_issues": nil, "environments": nil,
		"approval_merge_request_rules": nil,
	}
	for name, want := range entities {
		tb := c.Table(name)
		if tb == nil {
			t.Errorf("schema.yml does not list %s", name)
			continue
		}
		if !slices.Equal(tb.Entity, want) {
			t.Errorf("%s: entity %v, want %v", name, tb.Entity, want)
		}
	}
	for _, col := range []struct {
		table, column string
		want          schema.Class
	}{
		{"users", "email", schema.Red},
		{"users", "username", schema.Red},
		{"users", "name", schema.Red},
		{"users", "state", schema.Category},
		{"projects", "import_url", schema.Red},
		{"issues", "service_desk_reply_to", schema.Red},
		{"issues", "title", schema.Text},
		{"issues", "state_id", schema.Category},
		{"issues", "confidential", schema.Category},
		{"ci_builds", "yaml_variables", schema.Red},
		{"labels", "title", schema.Category},
		{"milestones", "title", schema.Text},
		{"merge_request_metrics", "merged_by_id", schema.Key},
		{"projects", "creator_id", schema.Key},
		{"namespaces", "owner_id", schema.Key},
		{"namespaces", "traversal_ids", schema.Key},
		{"ci_pipelines", "duration", schema.Measure},
		{"notes", "note", schema.Text},
	} {
		got, ok := c.Table(col.table).Column(col.column)
		if !ok || got != col.want {
			t.Errorf("%s.%s: class %q (listed %v), want %q", col.table, col.column, got, ok, col.want)
		}
	}
}

// TestCatalogCoversGitlabfake loads the fake GitLab database and checks that
// schema.yml lists every one of its tables and columns: the guard denies
// what the catalog does not list, so a gap would refuse the example queries.
func TestCatalogCoversGitlabfake(t *testing.T) {
	t.Parallel()
	c, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, pgtest.New(t))
	if _, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{}); err != nil {
		t.Fatalf("load gitlabfake: %v", err)
	}
	cols := sourceColumns(t.Context(), t, conn)
	if len(cols) < 100 {
		t.Fatalf("information_schema lists only %d columns", len(cols))
	}
	for _, sc := range cols {
		tb := c.Table(sc.Table)
		if tb == nil {
			t.Errorf("table %s of gitlabfake is not in schema.yml", sc.Table)
			continue
		}
		if _, ok := tb.Column(sc.Column); !ok {
			t.Errorf("column %s.%s (%s) of gitlabfake is not in schema.yml", sc.Table, sc.Column, sc.DataType)
		}
	}
	// The catalog lists more columns than gitlabfake has (GitLab's full
	// tables), so drift has one kind only: catalogued columns gitlabfake
	// leaves out, never an uncatalogued source column.
	for _, m := range c.Drift(cols) {
		if strings.HasPrefix(m, "source column") {
			t.Errorf("drift: %s", m)
		}
	}
}

func sourceColumns(ctx context.Context, t *testing.T, conn *pgx.Conn) []schema.SourceColumn {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT table_name::text, column_name::text, data_type::text
		FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schema.SourceColumn, error) {
		var sc schema.SourceColumn
		err := r.Scan(&sc.Table, &sc.Column, &sc.DataType)
		return sc, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestDrift checks both kinds of drift, and that tables only one side has
// are not drift.
func TestDrift(t *testing.T) {
	t.Parallel()
	const file = `version: 1
tables:
  users:
    entity: [id]
    columns:
      id: key
      foo: text
      state: category
  labels:
    entity: []
    columns:
      id: key
`
	c, err := schema.Parse("schema.yml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	src := []schema.SourceColumn{
		{"users", "id", "integer"},
		{"users", "state", "character varying"},
		{"users", "bar", "text"},
		{"users", "baz", "boolean"},
		{"secrets", "value", "text"}, // not catalogued: denied, not drift
		// labels: catalogued, absent from the source: not drift
	}
	got := c.Drift(src)
	want := []string{
		"schema.yml: users.foo is catalogued but the source has no such column",
		"source column users.bar is not catalogued: add it to schema.yml (security owners review it)",
		"source column users.baz is not catalogued: add it to schema.yml (security owners review it)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var located []string
	for _, p := range c.DriftProblems(src) {
		located = append(located, p.Error())
	}
	wantLocated := []string{
		"schema.yml:3:3: source column users.bar is not catalogued: add it to schema.yml (security owners review it)",
		"schema.yml:3:3: source column users.baz is not catalogued: add it to schema.yml (security owners review it)",
		"schema.yml:7:7: users.foo is catalogued but the source has no such column",
	}
	if !slices.Equal(located, wantLocated) {
		t.Errorf("DriftProblems:\n%s\nwant:\n%s", strings.Join(located, "\n"), strings.Join(wantLocated, "\n"))
	}
	if d := c.Drift(nil); d != nil {
		t.Errorf("Drift(nil) = %v, want none", d)
	}
}

func ExampleCatalog_Drift() {
	c, _ := schema.Parse("schema.yml", []byte("version: 1\ntables:\n  users:\n    entity: [id]\n    columns:\n      id: key\n      email: red\n"))
	for _, m := range c.Drift([]schema.SourceColumn{{"users", "id", "integer"}, {"users", "name", "text"}}) {
		fmt.Println(m)
	}
	// Output:
	// schema.yml: users.email is catalogued but the source has no such column
	// source column users.name is not catalogued: add it to schema.yml (security owners review it)
}
