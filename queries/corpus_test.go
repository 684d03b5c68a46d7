package queries_test

import (
	"os"
	"slices"
	"testing"

	"gitlab.com/metricgate/metricgate/guard"
)

// The corpus (testdata/corpus/<area>/<name>.sql) is a set of honest
// analytics queries written as product managers write them: CTEs, EXISTS
// and scalar subqueries as group keys, FILTER, LATERAL, window functions in
// subqueries, UNION ALL, percentiles, date_trunc/extract and CASE buckets.
// The guard must accept every one of them, and on GitLab-shaped data each
// must return rows of which the entity filter keeps some. Where the guard
// refused the first way a query was written, a comment in the file says
// what was changed. It is not embedded in queries.FS: the examples are
// what authors copy, the corpus is what the guard is held to.
const corpusDir = "testdata/corpus"

// minCorpus is how many queries the corpus must at least hold.
const minCorpus = 40

// corpusAreas are the areas the corpus is sorted into.
var corpusAreas = []string{"value_stream", "dora", "code_review", "ci", "adoption", "plan"}

// TestCorpus checks every corpus query with the guard (no violation, the
// group_size column an aggregate) and runs it, and the guard's rewrite, on
// one cluster loaded with GitLab-shaped data, as TestRun runs the examples:
// each must return rows, keep some through the entity filter, and keep
// only rows (cells) of the query run directly.
func TestCorpus(t *testing.T) {
	t.Parallel()
	cat := loadQueries(t, os.DirFS(corpusDir), "queries/"+corpusDir)
	if len(cat.Queries) < minCorpus {
		t.Errorf("%d corpus queries in %s; want at least %d", len(cat.Queries), corpusDir, minCorpus)
	}
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	perArea := map[string]int{}
	for _, q := range cat.Queries {
		perArea[q.Area]++
		if !slices.Contains(corpusAreas, q.Area) {
			t.Errorf("%s: area %q is not one of %v", q.Path, q.Area, corpusAreas)
		}
	}
	for _, a := range corpusAreas {
		if perArea[a] == 0 {
			t.Errorf("the corpus has no query in area %s", a)
		}
	}

	dsn := fakeSource(t, 1)
	for _, q := range cat.Queries {
		t.Run(q.Area+"/"+q.Name, func(t *testing.T) {
			t.Parallel()
			an, vs := g.CheckQuery(q)
			if len(vs) > 0 {
				for _, v := range vs {
					t.Errorf("%s/%s:%v [%s]", corpusDir, q.Path, v, v.Rule)
				}
				t.FailNow()
			}
			i := slices.IndexFunc(an.Columns, func(c guard.Column) bool { return c.Name == q.GroupSize })
			if i < 0 || an.Columns[i].Kind != guard.Aggregate {
				t.Errorf("group_size column %q is not an aggregate output column", q.GroupSize)
			}
			runQuery(t, dsn, q, an)
		})
	}
}
