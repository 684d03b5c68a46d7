package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCITemplate runs the script of ci/queries.gitlab-ci.yml, command by
// command, in a directory with one good and one refused query, the way a
// GitLab runner would: the first command must write a Code Quality report
// that names the refused file, and the job must fail.
func TestCITemplate(t *testing.T) {
	data, err := os.ReadFile("../ci/queries.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]yaml.Node
	if err := yaml.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("template is not valid YAML: %v", err)
	}
	var job struct {
		Script    []string `yaml:"script"`
		Artifacts struct {
			Reports struct {
				CodeQuality string `yaml:"codequality"`
			} `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	node, ok := tmpl["metricgate:validate"]
	if !ok {
		t.Fatal("no metricgate:validate job")
	}
	if err := node.Decode(&job); err != nil || len(job.Script) == 0 {
		t.Fatalf("metricgate:validate has no script: %v", err)
	}
	dir := t.TempDir()
	write := func(name, src string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("queries/plan/good.sql", "-- description: Issues.\n-- owner: @pm\n-- group_size: n\nSELECT count(*) AS n FROM issues\n")
	write("queries/plan/bad.sql", "-- description: Titles.\n-- owner: @pm\n-- group_size: n\nSELECT title, count(*) AS n FROM issues\n")
	t.Chdir(dir)
	exit := 0
	for _, line := range job.Script {
		cmd, ignore := strings.CutSuffix(strings.TrimSpace(line), " || true")
		fields := strings.Fields(cmd)
		if fields[0] != "metricgate" {
			t.Fatalf("unexpected command in the template: %s", line)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), fields[1:], &env{stdout: &stdout, stderr: &stderr})
		if code == ExitUsage {
			t.Fatalf("%s: usage error: %s", cmd, stderr.String())
		}
		if !ignore && code != 0 {
			exit = code
		}
	}
	if exit != ExitProblems {
		t.Errorf("job exit %d, want %d: a refused query must fail the job", exit, ExitProblems)
	}
	report, err := os.ReadFile(job.Artifacts.Reports.CodeQuality)
	if err != nil {
		t.Fatalf("the job did not write its Code Quality artifact: %v", err)
	}
	var issues []codeQualityIssue
	if err := json.Unmarshal(report, &issues); err != nil {
		t.Fatal(err)
	}
	// bad.sql outputs a bare title: not an aggregate, and free text.
	if len(issues) != 2 || issues[0].Location.Path != "queries/plan/bad.sql" || issues[0].Location.Lines.Begin != 4 ||
		issues[0].CheckName != "guard/not-aggregate" || issues[0].Severity != "blocker" || issues[0].Fingerprint == "" ||
		issues[1].CheckName != "guard/red-column" || issues[1].Location.Lines.Begin != 4 {
		t.Errorf("report: %+v", issues)
	}
}
