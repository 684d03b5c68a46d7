package cli

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrate(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	cfg := writeConfig(t, "history:\n  url: ${HISTORY_URL}\n")
	environ := []string{"HISTORY_URL=" + dsn}
	migrate := func(args ...string) (code int, stdout, stderr string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code = run(t.Context(), append([]string{"migrate"}, args...),
			&env{stdout: &out, stderr: &errOut, environ: environ})
		return code, out.String(), errOut.String()
	}

	code, out, errOut := migrate("status", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("status before up: exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^VERSION +NAME +APPLIED AT\n1 +00001_history\.sql +pending$`).MatchString(out) {
		t.Errorf("status before up:\n%s", out)
	}

	code, out, errOut = migrate("up", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("up: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "applied 00001_history.sql\n") || !strings.Contains(out, "history database at version ") {
		t.Errorf("up:\n%s", out)
	}

	t.Logf("up:\n%s", out)
	code, out, errOut = migrate("--config", cfg, "status") // flags first works too
	if code != ExitOK {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^1 +00001_history\.sql +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(out) ||
		strings.Contains(out, "pending") {
		t.Errorf("status after up:\n%s", out)
	}

	t.Logf("status:\n%s", out)
	code, out, _ = migrate("up", "--config", cfg)
	if code != ExitOK || !strings.HasPrefix(out, "no change\n") {
		t.Errorf("second up: exit %d:\n%s", code, out)
	}
}

func TestMigrateDown(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	cfg := writeConfig(t, "")
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, environ: []string{"METRICGATE_HISTORY_URL=" + dsn}}
	if code := run(t.Context(), []string{"migrate", "up", "--config", cfg}, e); code != ExitOK {
		t.Fatalf("up: exit %d: %s", code, errOut.String())
	}
	// Each down rolls back the newest migration; the last one is 00001.
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v %v", names, err)
	}
	for i := len(names) - 1; i >= 0; i-- {
		out.Reset()
		if code := run(t.Context(), []string{"migrate", "down", "--config", cfg}, e); code != ExitOK {
			t.Fatalf("down: exit %d: %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "rolled back "+names[i]+"\n") {
			t.Errorf("down %d:\n%s", len(names)-i, out.String())
		}
	}
	out.Reset()
	errOut.Reset()
	if code := run(t.Context(), []string{"migrate", "down", "--config", cfg}, e); code != ExitProblems ||
		!strings.Contains(errOut.String(), "no migration to roll back") {
		t.Errorf("down with nothing applied: exit %d: %s", code, errOut.String())
	}
}

func TestMigrateUsage(t *testing.T) {
	t.Parallel()
	empty := writeConfig(t, "")
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"no subcommand", []string{"--config", empty}, nil, "missing subcommand: up, down or status"},
		{"unknown subcommand", []string{"sideways", "--config", empty}, nil, `unknown subcommand "sideways"`},
		{"extra argument", []string{"up", "now", "--config", empty}, nil, `unexpected argument "now"`},
		{"no history.url", []string{"status", "--config", empty}, nil, "history.url is not set: set it in the config file or METRICGATE_HISTORY_URL"},
		{"bad flag", []string{"up", "--frobnicate"}, nil, "flag provided but not defined: -frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(t.Context(), append([]string{"migrate"}, tt.args...),
				&env{stdout: &out, stderr: &errOut, environ: tt.environ})
			if code != ExitUsage || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut.String(), ExitUsage, tt.want)
			}
		})
	}
}

func TestMigrateHidesPassword(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "")
	var out, errOut bytes.Buffer
	// Nothing listens on port 1; the URL's password must not be printed,
	// the configured host and port must (the person debugging needs them).
	e := &env{stdout: &out, stderr: &errOut,
		environ: []string{"METRICGATE_HISTORY_URL=postgres://metricgate:hunter2-secret@127.0.0.1:1/history?sslmode=disable"}}
	code := run(t.Context(), []string{"migrate", "status", "--config", cfg}, e)
	if code != ExitProblems || !strings.Contains(errOut.String(), "history database (history.url: 127.0.0.1:1, database history): cannot connect") {
		t.Errorf("exit %d, stderr: %s", code, errOut.String())
	}
	if strings.Contains(errOut.String()+out.String(), "hunter2-secret") {
		t.Errorf("the password was printed: %s", errOut.String())
	}
}
