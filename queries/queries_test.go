package queries_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/queries"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// minQueries is how many examples the directory must at least hold.
const minQueries = 10

// loadCatalog loads the embedded examples with the default configuration
// and fails t on any problem.
func loadCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	return loadQueries(t, queries.FS, "queries")
}

// loadQueries loads the query files of fsys, which is the directory dir
// (for messages), with the default configuration and fails t on any
// problem.
func loadQueries(t testing.TB, fsys fs.FS, dir string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load(fsys, catalog.Config{})
	if ps, ok := errors.AsType[catalog.Problems](err); ok {
		t.Fatalf("the query files of %s have problems:\n%v", dir, ps.WithDir(dir))
	}
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	cat := loadCatalog(t)
	if len(cat.Queries) < minQueries {
		t.Errorf("%d example queries; want at least %d", len(cat.Queries), minQueries)
	}
	if len(cat.Invalid) > 0 {
		t.Errorf("%d invalid files", len(cat.Invalid))
	}
	for _, q := range cat.Queries {
		if q.Area == "" || strings.Contains(q.Area, "/") {
			t.Errorf("%s: want queries/<area>/<name>.sql", q.Path)
		}
		if len(q.Owners) == 0 {
			t.Errorf("%s: no owner", q.Path)
		}
		if !strings.Contains(q.Description, q.GroupSize) {
			t.Errorf("%s: the description does not say what the group_size column %q counts", q.Path, q.GroupSize)
		}
	}
}

// TestEmbedsEverySQLFile fails when a .sql file in this directory is not in
// FS, which embeds queries/<area>/<name>.sql only: a file at the top or two
// levels down would be validated and run from a checkout but missing from
// the demo and these tests.
func TestEmbedsEverySQLFile(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(os.DirFS("."), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return fs.SkipDir // testdata holds the test corpus (corpus_test.go), not examples
		}
		if d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return nil
		}
		if _, err := fs.Stat(queries.FS, path); err != nil {
			t.Errorf("%s is not embedded in queries.FS: put query files at queries/<area>/<name>.sql", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range loadCatalog(t).Queries {
		an, vs := g.CheckQuery(q)
		for _, v := range vs {
			t.Errorf("%s:%v", q.Path, v)
		}
		if len(vs) > 0 {
			continue
		}
		i := slices.IndexFunc(an.Columns, func(c guard.Column) bool { return c.Name == q.GroupSize })
		if i < 0 || an.Columns[i].Kind != guard.Aggregate {
			t.Errorf("%s: group_size column %q is not an aggregate output column", q.Path, q.GroupSize)
		}
	}
}

// TestREADMETemplate checks that the copy-paste template of README.md, the
// first ```sql block, is a valid query file.
func TestREADMETemplate(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```sql\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```sql block")
	}
	q, ps := catalog.Parse("area/template.sql", m[1], catalog.Config{})
	if len(ps) > 0 {
		t.Fatalf("the template has problems:\n%v", ps)
	}
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	if _, vs := g.CheckQuery(q); len(vs) > 0 {
		t.Errorf("the template breaks the guard's rules: %v", vs)
	}
}

// aggregateTypes are the result types an aggregate output column may have:
// numeric, boolean, date/time or interval (the runner's type rule).
var aggregateTypes = map[string]bool{
	"int2": true, "int4": true, "int8": true, "numeric": true, "float4": true, "float8": true,
	"bool": true, "date": true, "time": true, "timetz": true, "timestamp": true, "timestamptz": true,
	"interval": true,
}

// rowChecks are assertions of single queries, on top of the ones every
// query gets; each returns what is wrong with one row, or "".
var rowChecks = map[string]func(r row) string{
	"pipeline_success_rate": func(r row) string {
		if r.num("succeeded")+r.num("failed")+r.num("canceled") != r.num("pipelines") {
			return "succeeded + failed + canceled != pipelines"
		}
		return ""
	},
	"community_contributions": func(r row) string {
		if r.num("community_mrs") > r.num("merged_mrs") || r.num("first_contribution_mrs") > r.num("merged_mrs") {
			return "more community or first-contribution MRs than merged MRs"
		}
		return ""
	},
	"project_feature_adoption": func(r row) string {
		for _, c := range []string{"issues_enabled", "merge_requests_enabled", "ci_enabled", "wiki_enabled", "container_registry_enabled", "pages_enabled"} {
			if r.num(c) > r.num("projects") {
				return c + " > projects"
			}
		}
		return ""
	},
	"mrs_by_project_size": func(r row) string {
		if r.num("mrs") < r.num("projects") {
			return "fewer MRs than projects, though every project in a bucket has one"
		}
		return ""
	},
	"deployment_frequency": func(r row) string {
		if r.num("deploying_projects") > r.num("deployments") {
			return "more deploying projects than deployments"
		}
		return ""
	},
}

// TestRun runs every example against GitLab-shaped data at scale 1, as the
// runner would: read only, with the query's timeout.
func TestRun(t *testing.T) {
	t.Parallel()
	cat := loadCatalog(t)
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	dsn := fakeSource(t, 1)
	for _, q := range cat.Queries {
		t.Run(q.Name, func(t *testing.T) {
			t.Parallel()
			an, vs := g.CheckQuery(q)
			if len(vs) > 0 {
				t.Fatalf("guard: %v", vs)
			}
			runQuery(t, dsn, q, an)
		})
	}
}

// fakeSource starts a throwaway PostgreSQL cluster, loads GitLab-shaped
// data at the given scale into it and returns its DSN.
func fakeSource(t *testing.T, scale int) string {
	t.Helper()
	dsn := pgtest.New(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d rows of GitLab-shaped data (scale %d) in %v", stats.Total(), scale, stats.Duration.Round(time.Millisecond))
	return dsn
}

func runQuery(t *testing.T, dsn string, q *catalog.Query, an *guard.Analysis) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", q.Timeout.Milliseconds())); err != nil {
		t.Fatal(err)
	}

	if q.MaxCost > 0 {
		var plan string
		if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.Text).Scan(&plan); err != nil {
			t.Fatalf("explain: %v", err)
		}
		var p []struct {
			Plan struct {
				TotalCost float64 `json:"Total Cost"`
			}
		}
		if err := json.Unmarshal([]byte(plan), &p); err != nil || len(p) != 1 {
			t.Fatalf("explain: cannot read the plan (%v): %s", err, plan)
		}
		if p[0].Plan.TotalCost > q.MaxCost {
			t.Errorf("EXPLAIN total cost %.0f is above max_cost %.0f", p[0].Plan.TotalCost, q.MaxCost)
		}
	}

	rows, err := tx.Query(ctx, q.Text)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	defer rows.Close()

	fds := rows.FieldDescriptions()
	if len(fds) != len(an.Columns) {
		t.Fatalf("%d result columns; the guard saw %d", len(fds), len(an.Columns))
	}
	for i, fd := range fds {
		c := an.Columns[i]
		if fd.Name != c.Name {
			t.Errorf("result column %d is %q; the guard saw %q", i+1, fd.Name, c.Name)
		}
		typ, ok := conn.TypeMap().TypeForOID(fd.DataTypeOID)
		name := fmt.Sprintf("oid %d", fd.DataTypeOID)
		if ok {
			name = typ.Name
		}
		if c.Kind == guard.Aggregate && !aggregateTypes[name] {
			t.Errorf("aggregate column %q has type %s; want numeric, boolean, date/time or interval", c.Name, name)
		}
	}

	var n, loaded int
	var direct [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		direct = append(direct, vals)
		n++
		r := row{t: t, n: n, cols: fds, vals: vals}
		gs, ok := vals[r.index(q.GroupSize)].(int64)
		if !ok || gs <= 0 {
			t.Errorf("row %d: group_size %s = %v (%T); want an integer > 0", n, q.GroupSize, vals[r.index(q.GroupSize)], vals[r.index(q.GroupSize)])
		}
		if gs >= int64(q.MinGroupSize) {
			loaded++
		}
		checkRow(r)
		if check := rowChecks[q.Name]; check != nil {
			if msg := check(r); msg != "" {
				t.Errorf("row %d: %s: %s", n, msg, r)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("run: %v", err)
	}
	switch {
	case n == 0:
		t.Errorf("no rows")
	case n > q.MaxRows:
		t.Errorf("%d rows; max_rows is %d", n, q.MaxRows)
	case loaded == 0:
		t.Errorf("all %d rows have %s < min_group_size %d: nothing would be loaded", n, q.GroupSize, q.MinGroupSize)
	}
	t.Logf("%d rows, %d with %s >= %d", n, loaded, q.GroupSize, q.MinGroupSize)
	checkRewrite(t, tx, q, an, direct)
}

// checkRewrite runs the guard's rewrite of the query (what the runner
// runs) and checks that the rows the entity filter keeps are a subset of
// the query's own rows, cell by cell (a cell the rewrite suppressed is
// NULL), and that some rows are kept.
func checkRewrite(t *testing.T, tx pgx.Tx, q *catalog.Query, an *guard.Analysis, direct [][]any) {
	t.Helper()
	rows, err := tx.Query(t.Context(), an.SQL(q.MinGroupSize))
	if err != nil {
		t.Fatalf("rewritten query: %v", err)
	}
	defer rows.Close()
	if got, want := len(rows.FieldDescriptions()), len(an.Columns)+guard.HiddenColumns; got != want {
		t.Fatalf("rewritten query has %d columns; want %d", got, want)
	}
	filter := &guard.EntityFilter{Min: int64(q.MinGroupSize)}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		visible := vals[:len(an.Columns)]
		keep, err := filter.Keep(vals[len(an.Columns):])
		if err != nil {
			t.Fatal(err)
		}
		if !keep {
			continue
		}
		if !slices.ContainsFunc(direct, func(d []any) bool {
			for i, v := range visible {
				if v != nil && fmt.Sprint(v) != fmt.Sprint(d[i]) {
					return false
				}
			}
			return true
		}) {
			t.Errorf("kept row %v is not a row of the query run directly", visible)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rewritten query: %v", err)
	}
	if filter.Kept == 0 {
		t.Errorf("the entity filter keeps none of %d rows (min_group_size %d)", filter.Dropped, q.MinGroupSize)
	}
	t.Logf("rewrite: %d rows kept, %d dropped, %d cells suppressed", filter.Kept, filter.Dropped, filter.Cells)
}

// checkRow asserts what column names promise, for every query: counts are
// not negative, rates lie in [0, 1], durations are not negative, and
// median <= p90 <= p99 of the same measure.
func checkRow(r row) {
	for i, fd := range r.cols {
		name := fd.Name
		v, ok := r.float(i)
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(name, "_rate"):
			if v < 0 || v > 1 {
				r.t.Errorf("row %d: %s = %v is not in [0, 1]", r.n, name, v)
			}
		case strings.Contains(name, "hours") || strings.Contains(name, "minutes") || strings.Contains(name, "days"):
			if v < 0 {
				r.t.Errorf("row %d: duration %s = %v is negative", r.n, name, v)
			}
		}
		if _, isCount := r.vals[i].(int64); isCount && v < 0 {
			r.t.Errorf("row %d: count %s = %v is negative", r.n, name, v)
		}
		for _, pair := range [][2]string{{"median_", "p90_"}, {"p90_", "p99_"}} {
			rest, found := strings.CutPrefix(name, pair[0])
			if !found {
				continue
			}
			j := slices.IndexFunc(r.cols, func(fd pgconn.FieldDescription) bool { return fd.Name == pair[1]+rest })
			if j < 0 {
				continue
			}
			if w, ok := r.float(j); ok && v > w+1e-9 {
				r.t.Errorf("row %d: %s = %v > %s = %v", r.n, name, v, pair[1]+rest, w)
			}
		}
	}
}

// row is one result row, for assertions.
type row struct {
	t    *testing.T
	n    int // 1-based row number
	cols []pgconn.FieldDescription
	vals []any
}

func (r row) index(name string) int {
	i := slices.IndexFunc(r.cols, func(fd pgconn.FieldDescription) bool { return fd.Name == name })
	if i < 0 {
		r.t.Fatalf("no result column %q", name)
	}
	return i
}

// float returns column i as a float64; ok is false for NULL and for
// values that are not numbers.
func (r row) float(i int) (float64, bool) {
	switch v := r.vals[i].(type) {
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	case int16:
		return float64(v), true
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case pgtype.Numeric:
		f, err := v.Float64Value()
		if err != nil || !f.Valid || math.IsNaN(f.Float64) {
			return 0, false
		}
		return f.Float64, true
	}
	return 0, false
}

// num returns the named column as a number, failing the test when it is
// NULL or not a number.
func (r row) num(name string) float64 {
	v, ok := r.float(r.index(name))
	if !ok {
		r.t.Fatalf("row %d: column %s = %v is not a number", r.n, name, r.vals[r.index(name)])
	}
	return v
}

func (r row) String() string {
	var b strings.Builder
	for i, fd := range r.cols {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%v", fd.Name, r.vals[i])
	}
	return b.String()
}

// ruleIDs returns every rule id an author can meet: the guard's Rule
// constants (read from guard/guard.go: constants cannot be listed at run
// time) and the catalog's rules as its package doc lists them, but
// config/invalid (the operator's, never a file's).
func ruleIDs(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../guard/guard.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					break
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Rule") && lit.Kind == token.STRING {
					id, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) < 20 {
		t.Fatalf("guard/guard.go: found %d Rule constants, want the guard's 20 and more: has the file changed shape?", len(ids))
	}
	doc, err := os.ReadFile("../catalog/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	n := len(ids)
	for _, m := range regexp.MustCompile(`(?m)^//\t((?:file|header|value|name|target|config)/[a-z<>-]+) `).FindAllSubmatch(doc, -1) {
		if id := string(m[1]); id != "config/invalid" {
			ids = append(ids, id)
		}
	}
	if len(ids)-n < 15 {
		t.Fatalf("catalog/doc.go: found %d rules, want its list of 15 and more: has the list changed shape?", len(ids)-n)
	}
	return ids
}

// TestREADMEListsEveryRule: every rule id of the guard and the catalog is
// in README.md's table of rule ids (authors look up the id they see
// there), and the README names no rule that does not exist.
func TestREADMEListsEveryRule(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	_, table, ok := strings.Cut(text, "\n### Every rule id\n")
	if !ok {
		t.Fatal(`README.md has no "### Every rule id" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	ids := ruleIDs(t)
	for _, id := range ids {
		if !strings.Contains(table, "| `"+id+"` |") {
			t.Errorf("README.md's table of rule ids lacks `%s`", id)
		}
	}
	for _, m := range regexp.MustCompile("`((?:guard|file|header|value|name|target)/[a-z<>-]+)`").FindAllStringSubmatch(text, -1) {
		if !slices.Contains(ids, m[1]) && !(strings.HasPrefix(m[1], "value/") && slices.Contains(ids, "value/<key>")) {
			t.Errorf("README.md names the rule `%s`, which neither the guard nor the catalog has", m[1])
		}
	}
}

// TestREADMELinks: every link to a heading of README.md (#anchor) leads
// to one, with the anchors GitLab and GitHub make alike (lower case,
// punctuation dropped, spaces to hyphens).
func TestREADMELinks(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(readme), -1) {
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				return unicode.ToLower(r)
			}
			return -1
		}, m[1])
		anchors[slug] = true
	}
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(string(readme), -1) {
		if !anchors[m[1]] {
			t.Errorf("README.md links to #%s, which is no heading", m[1])
		}
	}
}
