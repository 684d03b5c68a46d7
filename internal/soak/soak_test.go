package soak

import (
	"bytes"
	"strings"
	"testing"
)

// TestSoakShort is four days of the soak, each with another fault (the
// process killed mid-run, the history down at the tick, the source
// restarted mid-run, a query's connection terminated), so that make test
// keeps the soak from rotting: every day's run is made, the
// warehouse holds every day once and nothing else, the status is never
// stale nor failing after recovery, and no canary reaches the warehouse.
// make soak runs the 30 days (soak_long_test.go).
func TestSoakShort(t *testing.T) {
	t.Parallel()
	var progress bytes.Buffer
	r, err := Run(t.Context(), Options{Schema: shippedSchema(), Days: 4, Progress: &progress,
		Faults: []string{FaultKill, FaultHistoryDown, FaultSourceRestart, FaultTerminate}})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r.Print(&out)
	t.Logf("\n%s%s", progress.String(), out.String())
	check(t, r)
}

// check fails t on every figure off its target.
func check(t *testing.T, r *Report) {
	t.Helper()
	if r.RunsMade != r.RunsExpected {
		t.Errorf("runs made %d/%d", r.RunsMade, r.RunsExpected)
	}
	if r.StaleSamples != 0 || r.FailingAfterRecovery != 0 {
		t.Errorf("freshness violations: %d stale, %d failing after recovery", r.StaleSamples, r.FailingAfterRecovery)
	}
	if r.Duplicates != 0 || r.Losses != 0 {
		t.Errorf("%d duplicates, %d losses", r.Duplicates, r.Losses)
	}
	if r.Canaries != 0 {
		t.Errorf("%d canaries in the warehouse", r.Canaries)
	}
	if r.StatusSamples < 10*r.Days {
		t.Errorf("%d status reads in %d days", r.StatusSamples, r.Days)
	}
	if err := r.Growth(); err != nil {
		t.Error(err)
	}
	// The status API's SLO attainment, by the rule every part shares: the
	// queries' data never went stale, so it is whole.
	if r.QueryAttainment != 1 {
		t.Errorf("query SLO attainment %s, want 100%%", percent(r.QueryAttainment))
	}
	if r.Dumps+r.DumpFailures > 0 {
		// Every dump made is loaded; a failed dump (the history down at
		// its tick) lets the loaded data age past the SLO for at most the
		// 4h until the next one, which two 2-hourly status reads can see.
		if r.DumpLoads < r.Dumps {
			t.Errorf("%d dumps made, %d loaded", r.Dumps, r.DumpLoads)
		}
		if r.DumpOverSLO > 2*r.DumpFailures {
			t.Errorf("%d status reads saw the loaded data over the %s SLO, with %d failed dumps", r.DumpOverSLO, r.DumpSLO, r.DumpFailures)
		}
		if r.DumpAttainment < 0.9 || r.LoadAttainment < 0.9 {
			t.Errorf("dump SLO attainment %s, loads %s: want at least 90%% over the soak", percent(r.DumpAttainment), percent(r.LoadAttainment))
		}
	}
}
