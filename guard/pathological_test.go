package guard

import (
	"fmt"
	"strings"
	"testing"
)

// pathological are inputs a hostile or careless author can write that once
// made the guard quadratic (found by fuzzing): thousands of outputs against
// thousands of GROUP BY keys, long expressions compared node by node with a
// key, and thousands of violations on one long line.
var pathological = map[string]string{
	"many targets and keys": "SELECT " + strings.Repeat("weight, ", 2000) + "count(*) AS n FROM issues GROUP BY " + strings.Repeat("state_id, ", 2000) + "health_status",
	"long expression key":   "SELECT " + strings.Repeat("weight+", 2000) + "weight AS k, count(*) AS n FROM issues GROUP BY " + strings.Repeat("upvotes_count+", 2000) + "upvotes_count",
	"many bad functions":    "SELECT count(*) AS n FROM issues WHERE " + strings.Repeat("foo(weight) AND ", 5000) + "true",
	"many unions":           strings.Repeat("SELECT count(*) AS n FROM issues UNION ALL ", 1000) + "SELECT count(*) FROM issues",
	"long case":             "SELECT count(*) AS n, sum(CASE " + strings.Repeat("WHEN confidential THEN 1 ", 5000) + "END) AS s FROM issues",
	"long in list":          "SELECT count(*) AS n FROM issues WHERE weight IN (" + strings.Repeat("1,", 20000) + "1)",
}

func TestViolationCap(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	_, vs := g.Check(pathological["many bad functions"], "n")
	if len(vs) != MaxViolations+1 {
		t.Fatalf("%d violations, want %d and a last one saying how many more", len(vs), MaxViolations+1)
	}
	last := vs[len(vs)-1]
	if last.Rule != RuleTooMany || last.Message != "4900 more problems not shown; fix these first" {
		t.Errorf("last violation: %+v", last)
	}
}

// TestKeyLookupLinear checks that matching outputs against GROUP BY keys
// does not compare every node with every key: before keys were hashed, the
// first case made 2000 × 2000 full comparisons.
func TestKeyLookupLinear(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	for _, name := range []string{"many targets and keys", "long expression key"} {
		c := &checker{g: g, src: pathological[name], seen: map[string]bool{}, tables: map[string]bool{}}
		c.check(Options{GroupSize: "n"})
		if c.comparisons > 10 {
			t.Errorf("%s: %d full comparisons; keys must be found by hash", name, c.comparisons)
		}
	}
	// And the hash does not make different keys equal: each output that is
	// a key still matches.
	an, vs := g.Check("SELECT weight + upvotes_count AS s, upvotes_count + weight AS t, count(*) AS n FROM issues GROUP BY weight + upvotes_count, upvotes_count + weight", "n")
	if len(vs) > 0 || an.Columns[0].Kind != GroupKey || an.Columns[1].Kind != GroupKey {
		t.Errorf("keys not matched: %v %+v", vs, an.Columns)
	}
	_, vs = g.Check("SELECT weight - upvotes_count AS s, count(*) AS n FROM issues GROUP BY weight + upvotes_count", "n")
	if len(vs) != 1 || vs[0].Rule != RuleNotAggregate {
		t.Errorf("weight - upvotes_count matched the key weight + upvotes_count: %v", vs)
	}
}

func TestPositionColumnsCountCharacters(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	src := "-- description: Größe ✓\nSELECT 'ü' AS x, pg_sleep(1) AS y, count(*) AS n FROM issues GROUP BY 1, 2"
	_, vs := g.Check(src, "n")
	if len(vs) != 1 || fmt.Sprintf("%d:%d", vs[0].Line, vs[0].Col) != "2:18" {
		t.Errorf("got %v, want one violation at 2:18", vs)
	}
}

func BenchmarkPathological(b *testing.B) {
	g := testGuard(b)
	for name, src := range pathological {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				g.Check(src, "n")
			}
		})
	}
}
