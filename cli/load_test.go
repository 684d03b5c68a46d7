package cli

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// TestLoadStandsAlone runs metricgate load with a configuration that holds
// only the object storage and the warehouse: no history, no source, so no
// route to the production side. The warehouse's ledger decides: a dump and
// then its increment load, a second load has nothing to do; a load with a
// history that is down still works (the history only gets a copy). When
// the warehouse is lost, a new empty one at its place gets the full dump
// and the increment on it, although the history, which records the loads
// made with it, says the increment is loaded.
func TestLoadStandsAlone(t *testing.T) {
	t.Parallel()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(t.Context(), pgtest.Connect(t, src), gitlabfake.Options{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dumpYML, err := os.ReadFile("../dump.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dump.yml"), dumpYML, 0o644); err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(dir, "w.duckdb")
	storage := "file://" + filepath.Join(dir, "dumps") + "?create_dir=true"
	hist := pgtest.New(t)
	// The production side: the source, the history, the storage.
	production := writeConfig(t, "sources:\n  main:\n    url: "+src+"\nhistory:\n  url: "+hist+
		"\ndump:\n  config: "+filepath.Join(dir, "dump.yml")+"\n  storage_url: "+storage+"\n  pseudonym_key: load-test-pseudonym-key-0123456789\n")
	// The warehouse side: the storage and the warehouse, nothing else.
	warehouseSide := writeConfig(t, "warehouse:\n  url: duckdb://"+wh+"\ndump:\n  storage_url: "+storage+"\n")
	// The warehouse side with the production history configured too.
	withHistory := writeConfig(t, "warehouse:\n  url: duckdb://"+wh+"\ndump:\n  storage_url: "+storage+"\nhistory:\n  url: "+hist+"\n")
	cmd := func(config string, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), append(args, "--config", config), &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	ledger := func() []string {
		t.Helper()
		db, err := sql.Open("duckdb", wh+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = db.Close() }()
		rows, err := db.QueryContext(t.Context(), `SELECT seq, kind, coalesce(base, ''), location, tool FROM gitlab_public.metricgate_ledger ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		var out []string
		for rows.Next() {
			var seq int64
			var kind, base, loc, tool string
			if err := rows.Scan(&seq, &kind, &base, &loc, &tool); err != nil {
				t.Fatal(err)
			}
			if tool != "metricgate "+Version() {
				t.Errorf("ledger entry %d: tool %q", seq, tool)
			}
			out = append(out, fmt.Sprintf("%d %s %s on %s", seq, kind, loc, base))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	// A full dump, loaded with no history.
	cmd(production, "dump")
	out, _ := cmd(warehouseSide, "load")
	if !strings.Contains(out, "the warehouse holds no dump") || !strings.Contains(out, "(full dump, snapshot") {
		t.Fatalf("first load:\n%s", out)
	}
	full := ledger()
	if len(full) != 1 || !strings.HasPrefix(full[0], "1 full dumps/") {
		t.Fatalf("ledger after the full dump: %q", full)
	}
	// The dump's tables can be shown, by SCHEMA.TABLE; a table of the
	// dump named without its schema gets a did-you-mean.
	if out, _ := cmd(warehouseSide, "show", "gitlab_public.projects", "--limit", "2"); !strings.HasPrefix(out, "id ") ||
		!strings.Contains(out, "(2 of ") {
		t.Errorf("show gitlab_public.projects:\n%s", out)
	}
	var showOut, showErr bytes.Buffer
	code := run(t.Context(), []string{"show", "projects", "--config", warehouseSide}, &env{stdout: &showOut, stderr: &showErr})
	if code != ExitProblems || !strings.Contains(showErr.String(), "holds no table projects (did you mean gitlab_public.projects?); it holds gitlab_public.") {
		t.Errorf("show projects: exit %d\n%s%s", code, showOut.String(), showErr.String())
	}
	if out, _ := cmd(warehouseSide, "load"); !strings.Contains(out, "is already loaded (the warehouse's ledger, gitlab_public.metricgate_ledger): nothing to do") {
		t.Errorf("second load: %q, want nothing to do", out)
	}
	// An increment, loaded with the history configured: it gets a copy.
	sqlExec(t, src, `DELETE FROM notes WHERE id IN (SELECT id FROM notes ORDER BY id LIMIT 3)`)
	cmd(production, "dump", "--incremental")
	if out, _ := cmd(withHistory, "load"); strings.Count(out, "(increment on dumps/") != 1 || strings.Contains(out, "full dump,") {
		t.Fatalf("load of the increment: %q, want the increment alone", out)
	}
	both := ledger()
	if len(both) != 2 || both[0] != full[0] || !strings.HasPrefix(both[1], "2 incremental dumps/") || !strings.HasSuffix(both[1], " on "+strings.Fields(full[0])[2]) {
		t.Fatalf("ledger after the increment: %q", both)
	}
	if out, _ := cmd(warehouseSide, "load"); !strings.Contains(out, "nothing to do") {
		t.Errorf("load after the increment: %q, want nothing to do", out)
	}
	before := dumpFingerprints(t, wh)
	// A history that is down: a warning, and the load goes on.
	down := writeConfig(t, "warehouse:\n  url: duckdb://"+wh+"\ndump:\n  storage_url: "+storage+"\nhistory:\n  url: postgres://metricgate@127.0.0.1:1/history?connect_timeout=2\n")
	if out, errOut := cmd(down, "load"); !strings.Contains(out, "nothing to do") || !strings.Contains(errOut, "not copied to the history") {
		t.Errorf("load with the history down: %q, %q", out, errOut)
	}

	// The warehouse is lost; a new one at its place. The history says the
	// increment is loaded: it does not decide.
	store, err := history.Open(t.Context(), hist)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	if last, err := store.LastDumpLoad(t.Context()); err != nil || last.Location != strings.Fields(both[1])[2] {
		t.Fatalf("the history's last load: %+v, %v; want the increment (copied there by the load that had the history)", last, err)
	}
	for _, p := range []string{wh, wh + ".wal"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	out, _ = cmd(withHistory, "load")
	if !strings.Contains(out, "the warehouse holds no dump") || strings.Count(out, "(full dump, snapshot") != 1 || strings.Count(out, "(increment on dumps/") != 1 {
		t.Fatalf("load into a new warehouse: %q, want the full dump and its increment", out)
	}
	if got := ledger(); len(got) != 2 || got[0] != full[0] || got[1] != both[1] {
		t.Errorf("ledger of the new warehouse: %q, want %q", got, both)
	}
	if after := dumpFingerprints(t, wh); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the new warehouse holds\n%v\nthe lost one held\n%v", after, before)
	}
	if out, _ := cmd(warehouseSide, "load"); !strings.Contains(out, "nothing to do") {
		t.Errorf("second load into the new warehouse: %q, want nothing to do", out)
	}
}
