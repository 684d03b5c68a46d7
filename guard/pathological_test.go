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
	"many targets and keys": "SELECT " + strings.Repeat("x, ", 2000) + "count(*) AS n FROM t GROUP BY " + strings.Repeat("y, ", 2000) + "z",
	"long expression key":   "SELECT " + strings.Repeat("a+", 2000) + "a AS k, count(*) AS n FROM t GROUP BY " + strings.Repeat("b+", 2000) + "b",
	"many bad functions":    "SELECT count(*) AS n FROM t WHERE " + strings.Repeat("foo(x) AND ", 5000) + "true",
	"many unions":           strings.Repeat("SELECT count(*) AS n FROM t UNION ALL ", 1000) + "SELECT count(*) FROM t",
	"long case":             "SELECT count(*) AS n, sum(CASE " + strings.Repeat("WHEN x THEN 1 ", 5000) + "END) AS s FROM t",
	"long in list":          "SELECT count(*) AS n FROM t WHERE x IN (" + strings.Repeat("1,", 20000) + "1)",
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
	an, vs := g.Check("SELECT a + b AS s, b + a AS t, count(*) AS n FROM x GROUP BY a + b, b + a", "n")
	if len(vs) > 0 || an.Columns[0].Kind != GroupKey || an.Columns[1].Kind != GroupKey {
		t.Errorf("keys not matched: %v %+v", vs, an.Columns)
	}
	_, vs = g.Check("SELECT a - b AS s, count(*) AS n FROM x GROUP BY a + b", "n")
	if len(vs) != 1 || vs[0].Rule != RuleNotAggregate {
		t.Errorf("a - b matched the key a + b: %v", vs)
	}
}

func TestPositionColumnsCountCharacters(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	src := "-- description: Größe ✓\nSELECT 'ü' AS x, pg_sleep(1) AS y, count(*) AS n FROM t GROUP BY 1, 2"
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
