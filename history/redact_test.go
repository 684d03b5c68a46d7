package history

import (
	"strings"
	"testing"
	"time"
)

// Error texts are recorded without the network addresses driver errors
// quote, so that neither the history nor the API that reads it shows one.
func TestErrorsAreRecordedWithoutAddresses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	const dial = "source ci_eu: failed to connect to `user=ro database=gitlab`: 10.20.30.40:5432 (db): dial tcp [fd00::7]:5432: connect: connection refused"
	now := time.Now()
	id := mustStartRun(t, s, Run{Trigger: "manual", Approval: "none", Status: RunRunning, StartedAt: now})
	q := QueryRun{RunID: id, Query: "q", Target: "q", Source: "ci_eu", SHA256: "x", Status: QueryFailed,
		Error: dial, StartedAt: now, FinishedAt: now}
	q.ID = mustStartQueryRun(t, s, q)
	q.Error = "again: " + dial
	if err := s.FinishQueryRun(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, id, RunFailed, dial, now); err != nil {
		t.Fatal(err)
	}
	qs, err := s.QueryRuns(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"run": mustRun(t, s, id).Error, "query run": qs[0].Error} {
		if strings.Contains(text, "10.20.30.40") || strings.Contains(text, "fd00::7") || !strings.Contains(text, "connection refused") {
			t.Errorf("%s error recorded as %q: want it without addresses, with the rest", what, text)
		}
	}
	var stored string
	if err := s.db.QueryRowContext(ctx, "SELECT error FROM query_runs WHERE id = $1", q.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, "10.20.30.40") {
		t.Errorf("query_runs.error stores the address: %q", stored)
	}
}
