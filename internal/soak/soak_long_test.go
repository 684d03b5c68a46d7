//go:build soak

package soak

import (
	"os"
	"strconv"
	"testing"
)

// TestSoak is make soak: 30 days (SOAK_DAYS) of daily runs with a fault on
// about half of them (seed SOAK_SEED), its figures printed, each checked
// against its target: 30/30 runs, no freshness violation after recovery,
// no duplicate, no loss, no canary, no growth of heap, RSS or goroutines.
func TestSoak(t *testing.T) {
	dumpYML, err := os.ReadFile("../../dump.yml")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Schema: shippedSchema(), Days: 30, Seed: 1, Progress: os.Stdout, DumpConfig: dumpYML}
	if v, err := strconv.Atoi(os.Getenv("SOAK_DAYS")); err == nil {
		opts.Days = v
	}
	if v, err := strconv.ParseUint(os.Getenv("SOAK_SEED"), 10, 64); err == nil {
		opts.Seed = v
	}
	r, err := Run(t.Context(), opts)
	if r != nil {
		r.Print(os.Stdout)
	}
	if err != nil {
		t.Fatal(err)
	}
	check(t, r)
}
