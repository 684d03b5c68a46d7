package warehouse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDeleteSQL(t *testing.T) {
	day := time.Date(2024, 5, 1, 23, 0, 0, 0, time.FixedZone("", 3600))
	bind := func(n int, c Column) string { return fmt.Sprintf("$%d::%s", n, c.Type) }
	for _, tc := range []struct {
		mode   Mode
		source string
		want   string
		args   []any
	}{
		{Append, "ci", `DELETE FROM t WHERE "_snapshot_date" = $1::date AND ("_source" = $2::text OR "_source" IS NULL)`, []any{Date(day), "ci"}},
		{Replace, "ci", `DELETE FROM t WHERE ("_source" = $1::text OR "_source" IS NULL)`, []any{"ci"}},
		{Append, "", `DELETE FROM t WHERE "_snapshot_date" = $1::date`, []any{Date(day)}},
		{Replace, "", `DELETE FROM t`, nil},
	} {
		load := Load{Table: "t", Mode: tc.mode, Provenance: Provenance{SnapshotDate: day, Source: tc.source}}
		got, args := DeleteSQL("t", load, bind)
		if got != tc.want || !slices.Equal(args, tc.args) {
			t.Errorf("%s, source %q: DeleteSQL =\n%s %v\nwant\n%s %v", tc.mode, tc.source, got, args, tc.want, tc.args)
		}
	}
}

func TestCompareColumns(t *testing.T) {
	table := map[string]Kind{"a": KindInt, "b": KindText, "gone": KindBool}
	load := []Column{{Name: "a", Type: Type{Kind: KindInt}}, {Name: "b", Type: Type{Kind: KindFloat}}, {Name: "new", Type: Type{Kind: KindDate}}}
	missing, conflicts := CompareColumns(table, load, func(have Kind, c Column) string {
		if have == c.Type.Kind {
			return ""
		}
		return fmt.Sprintf("table has %v, result has %v", have, c.Type)
	})
	if len(missing) != 1 || missing[0].Name != "new" {
		t.Errorf("missing = %v, want [new]", missing)
	}
	if want := "b: table has text, result has float"; strings.Join(conflicts, "|") != want {
		t.Errorf("conflicts = %q, want %q", conflicts, want)
	}
	if missing, conflicts := CompareColumns(map[string]Kind(nil), load, nil); len(missing) != len(load) || conflicts != nil {
		t.Errorf("no table: %v, %v; want every column missing", missing, conflicts)
	}
}

func TestIsIdent(t *testing.T) {
	for s, want := range map[string]bool{
		"gitlab_public": true, "a1": true, "x": true, strings.Repeat("a", 63): true,
		"": false, "_x": false, "1a": false, "Upper": false, "with space": false, "a-b": false, strings.Repeat("a", 64): false,
	} {
		if got := IsIdent(s); got != want {
			t.Errorf("IsIdent(%q) = %v, want %v", s, got, want)
		}
	}
}
