package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateMaxTimeout: a header asking for a timeout over
// guard.max_timeout (default 30m) fails validate at the value's line and
// column; raising guard.max_timeout (here by its environment variable)
// lets it pass.
func TestValidateMaxTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"schema.yml": "version: test.1\ntables:\n  events:\n    entity: [author_id]\n    columns: {id: key, author_id: key, k: category}\n",
		"queries/slow/long.sql": "-- description: a long query\n-- owner: @pm\n-- group_size: actors\n-- timeout:  45m\n" +
			"SELECT e.k, count(DISTINCT e.author_id) AS actors FROM events e GROUP BY e.k\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := writeConfig(t, "guard:\n  schema: "+filepath.Join(dir, "schema.yml")+"\n")
	queries := filepath.Join(dir, "queries")
	for _, tc := range []struct {
		name    string
		environ []string
		code    int
		want    string
	}{
		{name: "default 30m", code: ExitProblems,
			want: queries + `/slow/long.sql:4:14: timeout "45m" is above the limit of 30m (the operator's guard.max_timeout)`},
		{name: "lowered", environ: []string{"METRICGATE_GUARD_MAX_TIMEOUT=10m"}, code: ExitProblems,
			want: queries + `/slow/long.sql:4:14: timeout "45m" is above the limit of 10m (the operator's guard.max_timeout)`},
		{name: "raised", environ: []string{"METRICGATE_GUARD_MAX_TIMEOUT=1h"}, code: ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{"validate", "--config", config, queries},
				&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: tc.environ})
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, stdout.String(), stderr.String())
			}
		})
	}
}
