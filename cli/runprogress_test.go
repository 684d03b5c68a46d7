package cli

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// run says how each query ended as it ends, on stderr, before the table;
// a query named with --query that is not approved is a failure saying why.
func TestRunSaysEachQueryAsItEnds(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t, map[string]string{"a/actors.sql": goodQuery, "b/top_text.sql": textAggregate})
	code, out, errOut := w.run("run", "--once")
	if code != ExitProblems {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, re := range []string{
		`(?m)^metricgate run: \[\d/2\] actors \(main\) succeeded: 11 rows \(1-9 rows below min_group_size dropped\) in \S+$`,
		`(?m)^metricgate run: \[\d/2\] top_text \(main\) failed: refused by the guard: .*max\(\) of a category.s value`,
	} {
		if !regexp.MustCompile(re).MatchString(errOut) {
			t.Errorf("stderr lacks %s:\n%s", re, errOut)
		}
	}

	// The same queries under approval git, in a directory that is no git
	// checkout: nothing is approved.
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.config, bytes.Replace(cfg, []byte("approval: none"), []byte("approval: git"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = w.run("run", "--query", "actors")
	if code != ExitProblems || !strings.Contains(out, "0 succeeded, 0 failed, 1 skipped") ||
		!strings.Contains(errOut, "metricgate run: actors (main) was not run: approval could not be checked") {
		t.Errorf("run --query of a query that is not approved: exit %d\n%s%s", code, out, errOut)
	}
	// One cause that skips every query is one log line and a count, each
	// key once, the duration as text.
	_, _, errOut = w.run("run", "--once", "--verbose")
	if n := strings.Count(errOut, `msg="query skipped"`); n != 2 || !strings.Contains(errOut, "repeated=1 queries=") ||
		strings.Count(errOut, "approval could not be checked") != 3 { // the first log line, and the two progress lines
		t.Errorf("%d lines say query skipped, want the first and its count:\n%s", n, errOut)
	}
	if !regexp.MustCompile(`msg="run finished" run_id=\d+ status=\w+ duration=\d+(\.\d+)?m?s\b`).MatchString(errOut) {
		t.Errorf("run finished line:\n%s", errOut)
	}
}

// lineWriter hands each line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // not a whole line yet
			return len(p), nil
		}
		l.lines <- strings.TrimSuffix(line, "\n")
	}
}

// A query that runs long is named while it runs, with its timeout.
func TestRunSaysWhatRunsLong(t *testing.T) {
	t.Parallel()
	store, err := openMigratedHistory(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	runID, err := store.StartRun(t.Context(), history.Run{Trigger: "manual", Approval: "none", Status: history.RunRunning, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	out := &lineWriter{lines: make(chan string, 10)}
	p := newProgress(store, out, 50*time.Millisecond, map[string]time.Duration{"slow": 15 * time.Minute}, 1)
	defer p.close()
	q := history.QueryRun{RunID: runID, Query: "slow", Source: "main", Status: history.QueryRunning, StartedAt: time.Now()}
	if q.ID, err = p.StartQueryRun(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-out.lines:
		if !regexp.MustCompile(`^metricgate run: slow \(main\) still running after \S+ \(timeout 15m\)$`).MatchString(line) {
			t.Errorf("line %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no line about the long query")
	}
	q.Status, q.RowsLoaded, q.FinishedAt = history.QuerySucceeded, 3, time.Now()
	q.Duration = q.FinishedAt.Sub(q.StartedAt)
	if err := p.FinishQueryRun(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	for line := range out.lines {
		if strings.Contains(line, "still running") {
			continue // written before the end
		}
		if !regexp.MustCompile(`^metricgate run: \[1/1\] slow \(main\) succeeded: 3 rows in \S+$`).MatchString(line) {
			t.Errorf("line %q", line)
		}
		break
	}
}
