package cli

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// closedPort returns a local port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// A database that cannot be reached is named by its setting and its
// configured host and port, an IP address included (the operator's
// setting, not anyone's data), never with its password.
func TestDialErrorNamesTheDatabase(t *testing.T) {
	t.Parallel()
	hist, wh := closedPort(t), closedPort(t)
	p := writeConfig(t, fmt.Sprintf("history:\n  url: postgres://h:%s@127.0.0.1:%d/hist\nwarehouse:\n  url: postgres://w:%s@127.0.0.1:%d/wh\n"+
		"sources:\n  main:\n    url: postgres://r:%s@127.0.0.1:1/gitlab\nqueries:\n  dir: %s\n  approval: none\n",
		testPassword, hist, testPassword, wh, testPassword, t.TempDir()))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--once"}, fmt.Sprintf("metricgate run: history database (history.url: 127.0.0.1:%d, database hist): cannot connect: connection refused\n", hist)},
		{[]string{"show", "t"}, fmt.Sprintf("metricgate show: warehouse (warehouse.url: 127.0.0.1:%d, database wh): cannot connect: connection refused\n", wh)},
	} {
		var stdout, stderr strings.Builder
		code := run(t.Context(), append(tc.args, "--config", p), &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		if code != ExitProblems || stderr.String() != tc.want {
			t.Errorf("%v: exit %d, want %d, stderr\n%s\nwant\n%s", tc.args, code, ExitProblems, stderr.String(), tc.want)
		}
	}
}

func TestRedactExcept(t *testing.T) {
	t.Parallel()
	in := "history database (history.url: 10.0.0.7:5432): dial tcp 10.0.0.7:5432 via 192.168.1.9: refused"
	want := "history database (history.url: 10.0.0.7:5432): dial tcp 10.0.0.7:5432 via [address]: refused"
	if got := redactExcept(in, []string{"10.0.0.7:5432", "10.0.0.7"}); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// show without a warehouse configured does not create the default DuckDB
// file: it says there is none and how to name one.
func TestShowWithoutAWarehouse(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr strings.Builder
	code := run(t.Context(), []string{"show", "actors"}, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
	if code != ExitProblems || !strings.Contains(stderr.String(), "the warehouse metricgate.duckdb (warehouse.url) does not exist: nothing was loaded there yet") {
		t.Errorf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
		t.Errorf("show left %v (%v) in the working directory", entries, err)
	}
}

// dump and schema draft name the source they could not reach.
func TestDialErrorNamesTheSource(t *testing.T) {
	t.Parallel()
	src := closedPort(t)
	dir := t.TempDir()
	dumpYML, err := os.ReadFile("../dump.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/dump.yml", dumpYML, 0o644); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, fmt.Sprintf("sources:\n  main:\n    url: postgres://r:%s@127.0.0.1:%d/gitlab\nhistory:\n  url: %s\n"+
		"dump:\n  config: %s/dump.yml\n  storage_url: file://%s/dumps?create_dir=true\n  pseudonym_key: endpoint-test-key-0123456789\n",
		testPassword, src, pgtest.New(t), dir, dir))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dump", "--config", p}, fmt.Sprintf("source (sources.main.url: 127.0.0.1:%d, database gitlab): cannot connect: connection refused", src)},
		{[]string{"schema", "draft", "--source", fmt.Sprintf("postgres://r:%s@127.0.0.1:%d/gitlab", testPassword, src)},
			fmt.Sprintf("metricgate schema draft: source (--source: 127.0.0.1:%d, database gitlab): cannot connect: connection refused", src)},
	} {
		var stdout, stderr strings.Builder
		code := run(t.Context(), tc.args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		if code != ExitProblems || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), testPassword) {
			t.Errorf("%v: exit %d, stderr\n%s\nwant %q", tc.args[0], code, stderr.String(), tc.want)
		}
	}
}
