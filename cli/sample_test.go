package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestSampleCommand starts the sample database, plans a query through the
// configuration it writes, stops it, and starts it again on the data it
// kept.
func TestSampleCommand(t *testing.T) {
	t.Parallel()
	// Under a directory the postgres user may search (the test's own
	// TempDir is private when running as root).
	parent, err := os.MkdirTemp("", "metricgate-sample-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(parent) })
	dir := filepath.Join(parent, "sample")
	run1 := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.WithoutCancel(t.Context()), args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		return code, stdout.String(), stderr.String()
	}
	t.Cleanup(func() { run1("sample", "--dir", dir, "--stop") })

	code, out, errOut := run1("sample", "--dir", dir)
	if code != ExitOK || !strings.Contains(out, "GitLab-shaped fake data (scale 1)") {
		t.Fatalf("sample: exit %d\n%s%s", code, out, errOut)
	}
	config := filepath.Join(dir, "metricgate.yml")
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	url := regexp.MustCompile(`url: (postgres://\S+/gitlab\S*)`).FindStringSubmatch(string(b))
	if url == nil {
		t.Fatalf("no source URL in the configuration:\n%s", b)
	}
	conn, err := pgx.Connect(t.Context(), url[1])
	if err != nil {
		t.Fatal(err)
	}
	var issues int
	err = conn.QueryRow(t.Context(), "SELECT count(*) FROM issues").Scan(&issues)
	_ = conn.Close(t.Context())
	if err != nil || issues == 0 {
		t.Fatalf("the sample database has %d issues (%v)", issues, err)
	}
	// A product manager's next step, from the repository root: plan an
	// example on it (here the test points queries.dir at the examples).
	examples, err := filepath.Abs("../queries")
	if err != nil {
		t.Fatal(err)
	}
	withQueries := filepath.Join(parent, "plan.yml")
	if err := os.WriteFile(withQueries, []byte(strings.Replace(string(b), "  approval: none\n", "  approval: none\n  dir: "+examples+"\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run1("plan", "--config", withQueries, "mr_time_to_merge")
	if code != ExitOK || !strings.Contains(out, "counted in    merge_requests.author_id") {
		t.Errorf("plan on the sample: exit %d\n%s%s", code, out, errOut)
	}

	if code, out, _ = run1("sample", "--dir", dir, "--stop"); code != ExitOK || !strings.Contains(out, "stopped the sample database") {
		t.Errorf("sample --stop: exit %d: %s", code, out)
	}
	if code, out, _ = run1("sample", "--dir", dir, "--stop"); code != ExitOK || !strings.Contains(out, "no sample database is running") {
		t.Errorf("sample --stop when stopped: exit %d: %s", code, out)
	}
	if code, out, errOut = run1("sample", "--dir", dir); code != ExitOK || !strings.Contains(out, "the GitLab-shaped data it already held") {
		t.Errorf("sample again: exit %d\n%s%s", code, out, errOut)
	}
}
