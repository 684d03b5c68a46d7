package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/runner"
)

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "metricgate.yml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, `
sources:
  main:
    url: postgres://reader:${DB_PASSWORD}@backup/gitlab
    max_age: 30h
    max_cost: 5e8
    work_mem: 32MB
queries:
  dir: sql
guard:
  min_group_size: 15
api:
  token: "${API_TOKEN}"
dump:
  pseudonym_key: "literal$$dollar"
`)
	environ := []string{
		"DB_PASSWORD=s3cret", "API_TOKEN=tok-123",
		"METRICGATE_QUERIES_DIR=/srv/queries",        // env wins over the file
		"METRICGATE_GUARD_RED_COLUMNS=*email*, *ip*", // a list
		"METRICGATE_SOURCES_CI_URL=postgres://reader@backup-ci/gitlab",
		"METRICGATE_SOURCES_CI_MAX_AGE=2h",
		"METRICGATE_QUERIES_WORKERS=4",
		"METRICGATE_GUARD_MAX_TIMEOUT=45m",
		"METRICGATE_SOURCES_CI_MAX_COST=2e9",
		"METRICGATE_SOURCES_CI_TEMP_FILE_LIMIT=-1",
	}
	cfg, err := loadConfig(p, environ)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"sources.main.url", cfg.Sources["main"].URL.Reveal(), "postgres://reader:s3cret@backup/gitlab"},
		{"sources.main.max_age", time.Duration(cfg.Sources["main"].MaxAge), 30 * time.Hour},
		{"sources.main.as_of default", cfg.Sources["main"].AsOf, "now()"},
		{"sources.ci.url", cfg.Sources["ci"].URL.Reveal(), "postgres://reader@backup-ci/gitlab"},
		{"sources.ci.max_age", time.Duration(cfg.Sources["ci"].MaxAge), 2 * time.Hour},
		{"queries.dir", cfg.Queries.Dir, "/srv/queries"},
		{"queries.workers", cfg.Queries.Workers, 4},
		{"queries.approval default", cfg.Queries.Approval, "git"},
		{"guard.min_group_size", cfg.Guard.MinGroupSize, 15},
		{"guard.red_columns", strings.Join(cfg.Guard.RedColumns, "|"), "*email*|*ip*"},
		{"api.token", cfg.API.Token.Reveal(), "tok-123"},
		{"dump.pseudonym_key", cfg.Dump.PseudonymKey.Reveal(), "literal$dollar"},
		{"schedule default", cfg.Schedule, "0 4 * * *"},
		{"dump.group default", cfg.Dump.Group, "gitlab-org"},
		{"guard.max_timeout", time.Duration(cfg.Guard.MaxTimeout), 45 * time.Minute},
		{"sources.main.max_cost", cfg.Sources["main"].MaxCost, 5e8},
		{"sources.main.work_mem", cfg.Sources["main"].WorkMem, "32MB"},
		{"sources.main.temp_file_limit default", cfg.Sources["main"].TempFileLimit, "1GB"},
		{"sources.ci.max_cost", cfg.Sources["ci"].MaxCost, 2e9},
		{"sources.ci.work_mem default", cfg.Sources["ci"].WorkMem, "64MB"},
		{"sources.ci.temp_file_limit", cfg.Sources["ci"].TempFileLimit, "-1"},
		{"runner source ci", fmt.Sprintf("%+v", cfg.runnerSource("ci")), fmt.Sprintf("%+v", runner.Source{Name: "ci",
			URL: "postgres://reader@backup-ci/gitlab", AsOf: "now()", MaxAge: 2 * time.Hour, Role: "ci", MaxCost: 2e9,
			WorkMem: "64MB", TempFileLimit: "-1"})},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	cc := cfg.catalogConfig()
	if !slices.Equal(cc.Sources, []string{"ci", "main"}) || cc.MinGroupSize != 15 || cc.MaxTimeout != 45*time.Minute {
		t.Errorf("catalog config %+v", cc)
	}
	// Secrets never print: not with %v, not in JSON.
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprintf("%v %+v", cfg, cfg), string(js)} {
		for _, secret := range []string{"s3cret", "tok-123", "literal$dollar"} {
			if strings.Contains(out, secret) {
				t.Errorf("secret %q printed in %s", secret, out)
			}
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		environ   []string
		want      string
	}{
		{"unset variable", "api:\n  token: ${NOPE}\n", nil, "environment variables not set: NOPE"},
		{"unknown key", "queries:\n  dri: x\n", nil, `metricgate.yml:2:3: unknown key "dri" in queries (did you mean "dir"?)`},
		{"bad approval", "queries:\n  approval: maybe\n", nil, `queries.approval "maybe": must be none, git or gitlab`},
		{"bad schedule", "schedule: \"@daily\"\n", nil, `schedule "@daily"`},
		{"bad red pattern", "guard:\n  red_columns: [\"[\"]\n", nil, "red_columns"},
		{"floor too low", "guard:\n  min_group_size: 1\n", nil, "guard.min_group_size 1: must be at least 10, the floor SECURITY.md states"},
		{"bad env number", "", []string{"METRICGATE_QUERIES_WORKERS=two"}, `METRICGATE_QUERIES_WORKERS: queries.workers "two": not a whole number`},
		{"bad env duration", "", []string{"METRICGATE_SOURCES_MAIN_MAX_AGE=soon"}, "METRICGATE_SOURCES_MAIN_MAX_AGE"},
		{"bad source name", "sources:\n  Main:\n    url: x\n", nil, "sources.Main: source names must be"},
		{"bad max_timeout", "", []string{"METRICGATE_GUARD_MAX_TIMEOUT=-5m"}, "guard.max_timeout -5m0s: must be positive"},
		{"bad max_cost", "sources:\n  main:\n    max_cost: -1\n", nil, "sources.main.max_cost -1: must be a positive number"},
		{"bad env max_cost", "", []string{"METRICGATE_SOURCES_MAIN_MAX_COST=lots"}, `METRICGATE_SOURCES_MAIN_MAX_COST: sources.main.max_cost "lots": not a number`},
		{"bad work_mem", "sources:\n  main:\n    work_mem: lots\n", nil, `sources.main.work_mem "lots": must be a size such as 64MB`},
		{"env below the floor", "", []string{"METRICGATE_GUARD_MIN_GROUP_SIZE=2"}, "METRICGATE_GUARD_MIN_GROUP_SIZE: guard.min_group_size 2: must be at least 10"},
		{"misspelt variable", "", []string{"METRICGATE_QUERIES_APPROVL=none"}, "METRICGATE_QUERIES_APPROVL: unknown setting variable: it sets no key (did you mean METRICGATE_QUERIES_APPROVAL?)"},
		{"unknown warehouse scheme", "warehouse:\n  url: mysql://wh/db\n", nil, `metricgate.yml:2:8: warehouse.url: unknown scheme "mysql": want duckdb, postgres, postgresql, snowflake`},
		{"not YAML", "queries:\n  dir: [x\n", nil, "not valid YAML: did not find expected"},
		{"twice", "queries:\n  dir: a\n  dir: b\n", nil, "metricgate.yml:3:3: queries.dir is set twice (first on line 2)"},
		{"bad temp_file_limit", "sources:\n  main:\n    temp_file_limit: 1 GiB\n", nil, `sources.main.temp_file_limit "1 GiB"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(writeConfig(t, tc.src), tc.environ)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := loadConfig(filepath.Join(t.TempDir(), "missing.yml"), nil); err == nil {
		t.Error("a --config file that does not exist is not an error")
	}
}

func TestLoadConfigOffline(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, "api:\n  token: ${API_TOKEN}\nguard:\n  min_group_size: 12\n")
	cfg, err := loadConfigOffline(p, nil)
	if err != nil {
		t.Fatalf("validate must read a config whose secrets are not set: %v", err)
	}
	if cfg.API.Token != "" || cfg.Guard.MinGroupSize != 12 {
		t.Errorf("token %q, min_group_size %d", cfg.API.Token.Reveal(), cfg.Guard.MinGroupSize)
	}
	if _, err := loadConfig(p, nil); err == nil {
		t.Error("loadConfig accepted an unset secret")
	}
}

func TestLoadConfigDefaultFileOptional(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := loadConfig("", nil)
	if err != nil {
		t.Fatalf("no metricgate.yml and no --config: %v", err)
	}
	if cfg.Queries.Dir != "queries" || len(cfg.Sources) != 1 {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// The run schedule of the config takes what serve takes: @every too; a
// query header does not (catalog tests).
func TestConfigScheduleEvery(t *testing.T) {
	for spec, ok := range map[string]bool{"@every 10m": true, "@every 0s": false, "0 4 * * *": true, "@hourly-ish": false} {
		cfg := &Config{Schedule: spec}
		cfg.withDefaults()
		err := cfg.validate()
		if (err == nil) != ok {
			t.Errorf("schedule %q: validate = %v, want ok=%v", spec, err, ok)
		}
	}
}

// Every problem of a configuration is reported at once, each naming its
// key and where it was set (file line or variable), in the words of
// metricgate rather than of the YAML library.
func TestLoadConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, `queries:
  approvl: git
  workers: lots
sources:
  main:
    url: postgres://reader@db/gitlab
    max_age: " hours"
guard:
  min_group_size: 5
schedule: every monday
api:
  token: ${TOKEN_NOT_SET}
`)
	_, err := loadConfig(p, []string{"METRICGATE_WAREHOUSE_URL=mysql://x", "METRICGATE_GUADR_SCHEMA=s.yml", "METRICGATE_IMAGE=ignored"})
	if err == nil {
		t.Fatal("loadConfig accepted a configuration with problems")
	}
	got := strings.ReplaceAll(err.Error(), p, "metricgate.yml")
	for _, want := range []string{
		"config: 8 problems:",
		"\n  metricgate.yml: environment variables not set: TOKEN_NOT_SET",
		"\n  metricgate.yml:2:3: unknown key \"approvl\" in queries (did you mean \"approval\"?)",
		"\n  metricgate.yml:3:12: queries.workers \"lots\": not a whole number",
		"\n  metricgate.yml:7:14: sources.main.max_age \" hours\": not a duration: write a number and a unit (s, m or h) without spaces, such as 90s, 30m, 26h or 1h30m",
		"\n  METRICGATE_GUADR_SCHEMA: unknown setting variable: it sets no key (did you mean METRICGATE_GUARD_SCHEMA?)",
		"\n  metricgate.yml:9:19: guard.min_group_size 5: must be at least 10",
		"\n  metricgate.yml:10:11: schedule \"every monday\":",
		"\n  METRICGATE_WAREHOUSE_URL: warehouse.url: unknown scheme \"mysql\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the error lacks %q:\n%s", want, got)
		}
	}
	for _, raw := range []string{"struct", "yaml:", "time: ", "unmarshal"} {
		if strings.Contains(got, raw) {
			t.Errorf("the error quotes the YAML or time library (%q):\n%s", raw, got)
		}
	}
}

// A ${VARIABLE} the file expands may be named METRICGATE_…: it is not an
// unknown setting variable.
func TestLoadConfigExpandedVariableIsKnown(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, "dump:\n  pseudonym_key: ${METRICGATE_PSEUDONYM_KEY}\n")
	cfg, err := loadConfig(p, []string{"METRICGATE_PSEUDONYM_KEY=k"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dump.PseudonymKey.Reveal() != "k" {
		t.Errorf("dump.pseudonym_key = %q", cfg.Dump.PseudonymKey.Reveal())
	}
}

// A configuration error is found before anything starts: serve and run
// exit 2 on an unknown warehouse scheme without listening or connecting.
func TestConfigErrorExitsBeforeStart(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, "warehouse:\n  url: mysql://wh/db\napi:\n  listen: 127.0.0.1:0\n  allow_unauthenticated_runs: true\nhistory:\n  url: postgres://nobody@127.0.0.1:1/none\n")
	for _, cmd := range []string{"serve", "run", "load"} {
		var stdout, stderr strings.Builder
		code := run(t.Context(), []string{cmd, "--config", p}, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		if code != ExitUsage || !strings.Contains(stderr.String(), `warehouse.url: unknown scheme "mysql"`) || strings.Contains(stderr.String(), "listening") {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd, code, stderr.String())
		}
	}
}

// A quoted number or boolean is read as it would be unquoted; a quoted
// word in their place is a problem naming the key.
func TestLoadConfigQuotedScalars(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(writeConfig(t, "queries:\n  workers: \"4\"\ndump:\n  schedule: 'true'\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Queries.Workers != 4 || !cfg.Dump.Schedule {
		t.Errorf("workers %d, dump.schedule %v", cfg.Queries.Workers, cfg.Dump.Schedule)
	}
	_, err = loadConfig(writeConfig(t, "queries:\n  workers: \"four\"\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `metricgate.yml:2:12: queries.workers "four": not a whole number`) {
		t.Errorf("err = %v", err)
	}
}

// The variables Kubernetes sets for a Service named metricgate are not
// settings, and not misspelt ones either.
func TestLoadConfigKubernetesServiceVariables(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(writeConfig(t, ""), []string{"METRICGATE_SERVICE_HOST=10.0.0.1", "METRICGATE_SERVICE_PORT=8080",
		"METRICGATE_SERVICE_PORT_HTTP=8080", "METRICGATE_PORT=tcp://10.0.0.1:8080", "METRICGATE_PORT_8080_TCP=tcp://10.0.0.1:8080",
		"METRICGATE_PORT_8080_TCP_PROTO=tcp", "METRICGATE_PORT_8080_TCP_PORT=8080", "METRICGATE_PORT_8080_TCP_ADDR=10.0.0.1"})
	if err != nil {
		t.Error(err)
	}
}

// TestAPIConfigShowsTheGuard: the status's configuration names the guard
// settings a reviewer audits, the schema catalog's file and version among
// them, and no secret.
func TestAPIConfigShowsTheGuard(t *testing.T) {
	t.Parallel()
	config := writeConfig(t, "sources:\n  main:\n    url: postgres://u:hunter2@127.0.0.1:5432/gitlab\n"+
		"guard:\n  min_group_size: 25\n  max_timeout: 20m\napi:\n  slo_window: 168h\n")
	cfg, err := loadConfig(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range cfg.apiConfig().Settings {
		got[s.Key] = s.Value
		if strings.Contains(s.Value, "hunter2") {
			t.Errorf("%s shows the password: %s", s.Key, s.Value)
		}
	}
	sc, err := loadSchema(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.apiConfig().SLOWindow; w != 168*time.Hour || got["api.slo_window"] != "168h0m0s" {
		t.Errorf("api.slo_window 168h reaches the API as %s, shown as %q", w, got["api.slo_window"])
	}
	if got["guard.min_group_size"] != "25" || got["guard.max_timeout"] != "20m0s" ||
		!strings.Contains(got["guard.schema"], "version "+sc.Version) {
		t.Errorf("guard settings: min_group_size %q, max_timeout %q, schema %q; want 25, 20m0s and version %s",
			got["guard.min_group_size"], got["guard.max_timeout"], got["guard.schema"], sc.Version)
	}
}
