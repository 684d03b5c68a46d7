package dump

import (
	"slices"
	"testing"
)

// TestScopeKindTable: every kind with a table of objects has the
// predicate that one is public, and comes after the kinds it reads.
func TestScopeKindTable(t *testing.T) {
	s := (&Definition{Schema: "public", Group: "gitlab-org"}).scope(nil)
	for i, k := range scopeKindTable {
		for _, r := range k.reads {
			if j := slices.IndexFunc(scopeKindTable, func(o scopeKind) bool { return o.name == r }); j < 0 || j > i {
				t.Errorf("kind %s reads %s, which does not come before it", k.name, r)
			}
		}
		if k.table == "" {
			continue
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("kind %s: %v", k.name, p)
				}
			}()
			if s.entity(k.name, "x") == "" {
				t.Errorf("kind %s: no predicate", k.name)
			}
		}()
	}
}
