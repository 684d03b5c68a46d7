package guard

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func TestEntityFilter(t *testing.T) {
	t.Parallel()
	f := &EntityFilter{Min: 10}
	rows := [][]any{ // __mg_entities, __mg_cells
		{int64(9), int64(0)},
		{int64(10), int64(2)},
		{int64(0), int64(0)},
		{int64(250), int64(0)},
		{big.NewInt(11), int64(1)},
	}
	var kept []int
	for i, r := range rows {
		ok, err := f.Keep(r)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			kept = append(kept, i)
		}
	}
	if got := fmt.Sprint(kept); got != "[1 3 4]" {
		t.Errorf("kept rows %s, want [1 3 4]", got)
	}
	if f.Kept != 3 || f.Dropped != 2 || f.Cells != 3 {
		t.Errorf("kept %d dropped %d cells %d, want 3, 2 and 3 (cells of kept rows only)", f.Kept, f.Dropped, f.Cells)
	}
	for _, bad := range [][]any{{nil, int64(0)}, {"12", int64(0)}, {1.5, int64(0)}, {int64(12)}} {
		if _, err := f.Keep(bad); err == nil {
			t.Errorf("Keep(%v) accepted hidden values that are not two whole numbers", bad)
		}
	}
}

func TestCheckResultTypes(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	// An aggregate the database answers with text (a type the static rules
	// did not expect) is one person's value: refused whatever its name.
	an, vs := g.Check("SELECT state, avg(sign_in_count) AS sign_ins, count(*) AS n FROM users GROUP BY 1", "n")
	if len(vs) > 0 {
		t.Fatal(vs)
	}
	err := CheckResultTypes(an, []string{"text", "text", "int8"})
	if err == nil || !strings.Contains(err.Error(), `"sign_ins" is text`) || strings.Contains(err.Error(), "state") {
		t.Errorf("text aggregate not refused, or group key refused: %v", err)
	}
	if err := CheckResultTypes(an, []string{"text", "numeric", "int8"}); err != nil {
		t.Errorf("allowed types refused: %v", err)
	}
	if err := CheckResultTypes(an, []string{"text"}); err == nil {
		t.Error("column count mismatch not reported")
	}
}

func TestIsRed(t *testing.T) {
	t.Parallel()
	g := testGuard(t, []string{"*email*", "keys.key"}...)
	for _, c := range []struct {
		table, column string
		want          bool
	}{
		{"users", "email", true},
		{"users", "Public_Email", true}, // case-insensitive, like query references
		{"keys", "key", true},
		{"gpg_keys", "key", false}, // a qualified pattern names its table
		{"issues", "title", false},
	} {
		if got := g.IsRed(c.table, c.column); got != c.want {
			t.Errorf("IsRed(%s, %s) = %v, want %v", c.table, c.column, got, c.want)
		}
	}
}
