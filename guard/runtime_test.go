package guard

import (
	"math/big"
	"strings"
	"testing"
)

func TestGroupFilter(t *testing.T) {
	t.Parallel()
	f := &GroupFilter{Column: 1, Min: 10}
	rows := [][]any{
		{"2026-01", int64(9)},
		{"2026-02", int64(10)},
		{"2026-03", int64(0)},
		{"2026-04", int64(250)},
		{"2026-05", big.NewInt(11)},
	}
	var kept []string
	for _, r := range rows {
		ok, err := f.Keep(r)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			kept = append(kept, r[0].(string))
		}
	}
	if got := strings.Join(kept, ","); got != "2026-02,2026-04,2026-05" {
		t.Errorf("kept %s", got)
	}
	if f.Kept != 3 || f.Dropped != 2 {
		t.Errorf("kept %d dropped %d, want 3 and 2", f.Kept, f.Dropped)
	}
	for _, bad := range [][]any{{"x", nil}, {"x", "12"}, {"x", 1.5}, {"x"}} {
		if _, err := f.Keep(bad); err == nil {
			t.Errorf("Keep(%v) accepted a group size that is not a whole number", bad)
		}
	}
}

func TestCheckResultTypes(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	// preferred_language is a category, so max() of it passes the static
	// rules; its type, text, is one person's value.
	an, vs := g.Check("SELECT state, max(preferred_language) AS language, avg(sign_in_count) AS sign_ins, count(*) AS n FROM users GROUP BY 1", "n")
	if len(vs) > 0 {
		t.Fatal(vs)
	}
	err := CheckResultTypes(an, []string{"text", "text", "numeric", "int8"})
	if err == nil || !strings.Contains(err.Error(), `"language" is text`) || strings.Contains(err.Error(), "state") {
		t.Errorf("text aggregate not refused, or group key refused: %v", err)
	}
	if err := CheckResultTypes(an, []string{"text", "timestamptz", "numeric", "int8"}); err != nil {
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
