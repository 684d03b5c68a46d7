package dump

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	"gitlab.com/metricgate/metricgate/warehouse"
)

func TestParseProblems(t *testing.T) {
	for _, c := range []struct {
		name, yml string
		want      []string // problems, in order, as file:line:col: message prefixes
	}{
		{"ok", "tables:\n  issues:\n    scope: {issue: id}\n    columns: [id, title]\n", nil},
		{"users", "tables:\n  users:\n    scope: {group: id}\n    columns: [id]\n", []string{"d.yml:2:3: the users table is never exported"}},
		{"unscoped", "tables:\n  issues:\n    columns: [id]\n", []string{"d.yml:2:3: table issues: no scope"}},
		{"red column", "tables:\n  notes:\n    scope: {note: id}\n    columns: [id, author_email]\n",
			[]string{"d.yml:4:19: table notes: column author_email is a red column"}},
		{"red column pseudonymized", "tables:\n  notes:\n    scope: {note: id}\n    columns: [id, author_email]\n    pseudonymize: [author_email]\n", nil},
		{"typo", "group: gitlab-org\ntabels: {}\n", []string{`d.yml:2:1: unknown key "tabels" (did you mean "tables"?)`, "d.yml:1:1: no tables"}},
		{"bad yaml", "tables: [\n", []string{"d.yml:"}},
		{"two kinds", "tables:\n  issues:\n    scope: {issue: id, project: project_id}\n    columns: [id]\n",
			[]string{"d.yml:3:24: table issues: scope has two kinds"}},
		{"features on issue", "tables:\n  issues:\n    scope: {issue: id, features: [issues]}\n    columns: [id]\n",
			[]string{"d.yml:3:12: table issues: scope features go with project only"}},
		{"bad group", "group: ../x\ntables:\n  issues:\n    scope: {issue: id}\n    columns: [id]\n", []string{`d.yml:1:8: group "../x"`}},
		{"incremental", "tables:\n  issues:\n    mode: incremental\n    updated_at: updated_at\n    scope: {issue: id}\n    columns: [id]\n", nil},
		{"bad mode", "tables:\n  issues:\n    mode: increment\n    scope: {issue: id}\n    columns: [id]\n",
			[]string{`d.yml:3:11: table issues: mode "increment": want full or incremental`}},
		{"incremental without updated_at", "tables:\n  issues:\n    mode: incremental\n    scope: {issue: id}\n    columns: [id]\n",
			[]string{"d.yml:3:11: table issues: mode incremental needs updated_at"}},
		{"key not exported", "tables:\n  issues:\n    mode: incremental\n    updated_at: updated_at\n    key: iid\n    scope: {issue: id}\n    columns: [id]\n",
			[]string{"d.yml:5:10: table issues: key iid is not among its columns"}},
		{"key pseudonymized", "tables:\n  notes:\n    mode: incremental\n    updated_at: updated_at\n    key: author_id\n    scope: {note: id}\n    columns: [id, author_id]\n    pseudonymize: [author_id]\n",
			[]string{"d.yml:5:10: table notes: key author_id is pseudonymized"}},
		{"updated_at of a full table", "tables:\n  issues:\n    updated_at: updated_at\n    scope: {issue: id}\n    columns: [id]\n",
			[]string{"d.yml:3:17: table issues: updated_at goes with mode: incremental"}},
		{"remote issue scope", "tables:\n  issues:\n    source: ci\n    scope: {issue: id}\n    columns: [id]\n",
			[]string{"d.yml:3:13: table issues: source ci: a table outside the main database can be scoped by group, project, pipeline only"}},
		{"typo in mode key", "tables:\n  issues:\n    mdoe: full\n    scope: {issue: id}\n    columns: [id]\n",
			[]string{`d.yml:3:5: unknown key "mdoe" (did you mean "mode"?)`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			def, err := Parse("d.yml", []byte(c.yml), nil)
			var ps Problems
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				if def.Group != DefaultGroup || def.SHA256 == "" {
					t.Errorf("group %q sha %q", def.Group, def.SHA256)
				}
				return
			}
			if !errors.As(err, &ps) {
				t.Fatalf("error %v, want Problems", err)
			}
			if len(ps) != len(c.want) {
				t.Fatalf("problems:\n%v\nwant %d", ps, len(c.want))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(ps[i].String(), w) {
					t.Errorf("problem %d: %s\nwant prefix %s", i, ps[i], w)
				}
			}
		})
	}
}

// TestRetain keeps the newest complete dumps, deletes older ones (complete
// or not, manifest first) and leaves an incomplete newer dump alone.
func TestRetain(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	defer func() { _ = b.Close() }()
	put := func(key string) {
		if err := b.WriteAll(ctx, key, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"2026-11-28/7/", "2026-11-29/8/", "2026-11-30/9/", "2026-11-30/10/"} {
		put("dumps/" + d + "a.csv.gz")
		put("dumps/" + d + ManifestName)
	}
	put("dumps/2026-11-29/crashed/a.csv.gz") // incomplete, old
	put("dumps/2026-12-01/11/a.csv.gz")      // incomplete, newest: running
	if err := Retain(ctx, b, "dumps/", 2, nil); err != nil {
		t.Fatal(err)
	}
	dumps, err := listDumps(ctx, b, "dumps/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dumps {
		got = append(got, d.location)
	}
	want := []string{"dumps/2026-11-30/9/", "dumps/2026-11-30/10/", "dumps/2026-12-01/11/"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after retention %v, want %v (runs ordered numerically)", got, want)
	}
}

func TestPseudonym(t *testing.T) {
	a, b := Pseudonym([]byte("k1-0123456789abcdef"), "42"), Pseudonym([]byte("k2-0123456789abcdef"), "42")
	if len(a) != 32 || a == b || a != Pseudonym([]byte("k1-0123456789abcdef"), "42") || strings.Contains(a, "42") && a == "42" {
		t.Errorf("pseudonyms %q, %q: want 32 hex digits, deterministic per key, different across keys", a, b)
	}
}

// TestRetainKeepsChains: keep counts full dumps; the increments after the
// oldest kept full dump stay with it, older ones go.
func TestRetainKeepsChains(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	defer func() { _ = b.Close() }()
	for i, kind := range []warehouse.DumpMode{KindFull, KindIncremental, KindFull, KindIncremental, KindIncremental} {
		loc := fmt.Sprintf("dumps/2026-12-01/%d/", i+1)
		if err := b.WriteAll(ctx, loc+"a.csv.gz", []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteAll(ctx, loc+ManifestName, []byte(`{"kind":"`+string(kind)+`"}`), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := Retain(ctx, b, "dumps/", 1, nil); err != nil {
		t.Fatal(err)
	}
	dumps, err := listDumps(ctx, b, "dumps/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dumps {
		got = append(got, d.run)
	}
	if strings.Join(got, " ") != "3 4 5" {
		t.Errorf("after retention of 1 full dump: runs %v, want 3 4 5 (the full dump and its increments)", got)
	}
}
