package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// TestDumpAndLoadCommands runs metricgate dump and load from a config file
// and the environment: a dump without a pseudonym key is refused, a dump
// and a load succeed, a second load skips the loaded dump, and neither
// the key nor a password is printed.
func TestDumpAndLoadCommands(t *testing.T) {
	t.Parallel()
	src := pgtest.New(t)
	if _, err := gitlabfake.Load(t.Context(), pgtest.Connect(t, src), gitlabfake.Options{}); err != nil {
		t.Fatal(err)
	}
	hist := pgtest.New(t)
	dir := t.TempDir()
	dumpYML, err := os.ReadFile("../dump.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dump.yml"), dumpYML, 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "metricgate.yml")
	cfg := "sources:\n  main:\n    url: ${SRC}\nhistory:\n  url: ${HIST}\nwarehouse:\n  url: duckdb://" + filepath.Join(dir, "w.duckdb") +
		"\ndump:\n  config: " + filepath.Join(dir, "dump.yml") + "\n  storage_url: file://" + filepath.Join(dir, "dumps") + "?create_dir=true\n"
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	const key = "cli-test-pseudonym-key-0123456789"
	environ := []string{"SRC=" + src, "HIST=" + hist}
	runCmd := func(environ []string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: environ})
		for _, s := range []string{key, "password="} {
			if strings.Contains(stdout.String()+stderr.String(), s) {
				t.Errorf("%v printed %q", args, s)
			}
		}
		return code, stdout.String(), stderr.String()
	}

	code, _, stderr := runCmd(environ, "dump", "--config", config)
	if code != ExitProblems || !strings.Contains(stderr, "pseudonym key is not set") {
		t.Fatalf("dump without a key: exit %d, stderr %q; want refused for the missing key", code, stderr)
	}
	withKey := append(slices.Clone(environ), "METRICGATE_DUMP_PSEUDONYM_KEY="+key)
	code, stdout, stderr := runCmd(withKey, "dump", "--config", config, "--split-size", "1")
	if code != ExitOK {
		t.Fatalf("dump: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^notes\s+full\s+[1-9]\d*\s+0\s+1\s+\d+$`).MatchString(stdout) || !strings.Contains(stdout, "14 tables") {
		t.Errorf("dump printed:\n%s", stdout)
	}
	// Progress: each table as it is exported, by name, counted.
	if !regexp.MustCompile(`(?m)^dump: \[\d+/14\] notes: [1-9]\d* rows, 1 file in \S+$`).MatchString(stderr) || !strings.Contains(stderr, "dump: [14/14] ") {
		t.Errorf("dump progress on stderr:\n%s", stderr)
	}
	code, stdout, stderr = runCmd(environ, "load", "--config", config)
	if code != ExitOK || !strings.Contains(stdout, "loaded dump dumps/") {
		t.Fatalf("load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^load: loading full dump dumps/\S+: 14 tables, [1-9]\d* rows, \d+ files \(\d+\.\d MB compressed\) into schema gitlab_public\n(load: still loading .*\n)*load: dumps/\S+ is in \(\S+\)$`).MatchString(stderr) {
		t.Errorf("load progress on stderr:\n%s", stderr)
	}
	code, stdout, _ = runCmd(environ, "load", "--config", config)
	if code != ExitOK || !strings.Contains(stdout, "already loaded") {
		t.Errorf("second load: exit %d, %q; want already loaded", code, stdout)
	}
	// An increment after a change, and its load on top.
	if code, _, stderr := runCmd(withKey, "dump", "--config", config, "--full", "--incremental"); code != ExitUsage || !strings.Contains(stderr, "pick one") {
		t.Errorf("dump --full --incremental: exit %d, %q", code, stderr)
	}
	if _, err := pgtest.Connect(t, src).Exec(t.Context(), `DELETE FROM notes WHERE id IN (SELECT id FROM notes ORDER BY id LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCmd(withKey, "dump", "--config", config, "--incremental")
	if code != ExitOK || !regexp.MustCompile(`(?m)^notes\s+incremental\s+0\s+[1-3]\s+1\s+\d+$`).MatchString(stdout) || !strings.Contains(stdout, "(incremental on dumps/") {
		t.Fatalf("dump --incremental: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(environ, "load", "--config", config)
	if code != ExitOK || !strings.Contains(stdout, "(increment on dumps/") {
		t.Fatalf("load of the increment: exit %d\n%s\n%s", code, stdout, stderr)
	}
	query := filepath.Join(dir, "q.sql")
	if err := os.WriteFile(query, []byte("-- description: d\n-- owner: @o\n-- group_size: n\nSELECT count(*) AS n FROM issues\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCmd(environ, "validate", "--config", config, "--source", src, query)
	if code != ExitOK || !strings.Contains(stdout, "dump.yml OK (14 tables)") {
		t.Errorf("validate --source: exit %d\n%s\n%s", code, stdout, stderr)
	}
	drifted := strings.Replace(string(dumpYML), "columns: [id, note,", "columns: [id, body, note,", 1)
	drifted = strings.Replace(drifted, "  label_links:", "  issue_assignees:\n    scope: {issue: issue_id}\n    columns: [issue_id]\n  label_links:", 1)
	if err := os.WriteFile(filepath.Join(dir, "drifted.yml"), []byte(drifted), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(append(environ, "METRICGATE_DUMP_CONFIG="+filepath.Join(dir, "drifted.yml")), "validate", "--config", config, "--source", src, query)
	if code != ExitProblems || !regexp.MustCompile(`drifted.yml:\d+:\d+: table notes: the source has no column body`).MatchString(stderr) ||
		!regexp.MustCompile(`drifted.yml:\d+:\d+: table issue_assignees: the source has no such table`).MatchString(stderr) {
		t.Errorf("validate --source with drift: exit %d\n%s", code, stderr)
	}
}

// TestDumpConfigCells: the dump reads the sources of one cell, one a
// role; the main source of that cell unless --source names one.
func TestDumpConfigCells(t *testing.T) {
	cfg := &Config{Sources: map[string]SourceConfig{
		"main_a": {URL: "postgres://a/main", Role: "main", Cell: "a"},
		"ci_a":   {URL: "postgres://a/ci", Role: "ci", Cell: "a"},
		"main_b": {URL: "postgres://b/main", Role: "main", Cell: "b"},
		"ci_b":   {URL: "postgres://b/ci", Role: "ci", Cell: "b"},
	}}
	cfg.withDefaults()
	if _, err := dumpConfig(cfg, ""); err == nil || !strings.Contains(err.Error(), "dump.cell is not set") {
		t.Errorf("two cells without dump.cell: %v", err)
	}
	cfg.Dump.Cell = "b"
	x, err := dumpConfig(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if x.SourceURL != "postgres://b/main" || len(x.Sources) != 1 || x.Sources["ci"].URL != "postgres://b/ci" {
		t.Errorf("cell b: main %s, others %v", x.SourceURL, x.Sources)
	}
	cfg.Dump.Cell = "c"
	if _, err := dumpConfig(cfg, ""); err == nil || !strings.Contains(err.Error(), `want one source of role main in cell "c"`) {
		t.Errorf("a cell without sources: %v", err)
	}
	one := &Config{Sources: map[string]SourceConfig{"main": {URL: "postgres://x/main"}}}
	one.withDefaults()
	if x, err := dumpConfig(one, ""); err != nil || x.SourceURL != "postgres://x/main" || len(x.Sources) != 0 {
		t.Errorf("one source: %+v, %v", x.Sources, err)
	}
}

// TestDumpProgressNamesRunningTables: the dump's progress line names the
// tables in flight, three at most.
func TestDumpProgressNamesRunningTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tables []string
		want   string
	}{
		{nil, ""},
		{[]string{"issues"}, "; exporting issues"},
		{[]string{"events", "issues", "notes", "projects", "users"}, "; exporting events, issues, notes and 2 more"},
	} {
		if got := running(tc.tables); got != tc.want {
			t.Errorf("running(%q) = %q, want %q", tc.tables, got, tc.want)
		}
	}
}
