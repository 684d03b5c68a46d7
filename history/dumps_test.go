package history

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// allSet fails the test when a field of v is zero, so that a field added to
// Dump or DumpLoad but not stored fails the round trip.
func allSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("test record leaves %s.%s zero", rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}

func TestDumpRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)

	got, err := s.Dumps(ctx, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("dumps of an empty history: %v, %v; want none", got, err)
	}

	base := time.Date(2026, 12, 1, 4, 0, 0, 0, berlin)
	id, err := s.StartDump(ctx, Dump{ID: 999, Group: "gitlab-org", StartedAt: base.Add(1500)})
	if err != nil {
		t.Fatal(err)
	}
	want := Dump{ID: id, Group: "gitlab-org", Status: DumpRunning, Kind: DumpFull, StartedAt: base.Add(time.Microsecond).UTC()}
	got, err = s.Dumps(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "started dump", got, []Dump{want})

	done := Dump{
		ID:           id,
		Group:        "gitlab-org/renamed",
		Status:       DumpFailed,
		Error:        "export table notes: connection reset",
		Location:     "dumps/2026-12-01/17/",
		SnapshotTime: base.Add(-time.Hour).UTC(),
		Tables:       14,
		Files:        31,
		Rows:         5 << 30,
		Bytes:        1 << 40,
		ConfigSHA256: strings.Repeat("ab", 32),
		Kind:         DumpIncremental,
		Base:         "dumps/2026-11-30/16/",
		StartedAt:    want.StartedAt,
		FinishedAt:   base.Add(time.Hour + 3*time.Microsecond).UTC(),
	}
	allSet(t, done)
	if err := s.FinishDump(ctx, done); err != nil {
		t.Fatal(err)
	}
	second := Dump{Group: "gitlab-org", Status: DumpSucceeded, Kind: DumpFull, StartedAt: base.Add(24 * time.Hour).UTC()}
	second.ID, err = s.StartDump(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.Dumps(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "dumps, newest first", got, []Dump{second, done})
	got, err = s.Dumps(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "dumps, limit 1", got, []Dump{second})

	if err := s.FinishDump(ctx, Dump{ID: id + 100, Status: DumpSucceeded}); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishDump of an unknown dump: %v, want ErrNotFound", err)
	}
	if _, err := s.StartDump(ctx, Dump{Group: "g", Status: DumpSkipped}); err == nil {
		t.Error("StartDump accepted status skipped (a load state)")
	}
	if _, err := s.StartDump(ctx, Dump{Group: "g", Rows: -1}); err == nil {
		t.Error("StartDump accepted a negative row count")
	}
}

func TestDumpLoadRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)

	if _, err := s.LastDumpLoad(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastDumpLoad of an empty history: %v, want ErrNotFound", err)
	}

	base := time.Date(2026, 12, 2, 5, 0, 0, 0, berlin)
	id, err := s.StartDumpLoad(ctx, DumpLoad{Location: "dumps/2026-12-01/17/", StartedAt: base})
	if err != nil {
		t.Fatal(err)
	}
	running := DumpLoad{ID: id, Location: "dumps/2026-12-01/17/", Status: DumpRunning, Kind: DumpFull, StartedAt: base.UTC()}
	loads, err := s.DumpLoads(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "started load", loads, []DumpLoad{running})
	if _, err := s.LastDumpLoad(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastDumpLoad with only a running load: %v, want ErrNotFound", err)
	}

	done := DumpLoad{
		ID:           id,
		Location:     "dumps/2026-12-01/18/",
		Status:       DumpSucceeded,
		Error:        "note: nothing wrong, every field set",
		SnapshotTime: base.Add(-25 * time.Hour).UTC(),
		Tables:       14,
		Rows:         5 << 30,
		Kind:         DumpIncremental,
		StartedAt:    base.UTC(),
		FinishedAt:   base.Add(time.Minute + 7*time.Microsecond).UTC(),
	}
	allSet(t, done)
	if err := s.FinishDumpLoad(ctx, done); err != nil {
		t.Fatal(err)
	}

	// A later failed load and a skipped one recorded as final: the last
	// succeeded load stays the first.
	failed := DumpLoad{Location: "dumps/2026-12-02/19/", Status: DumpFailed, Kind: DumpFull,
		Error: "verify notes.csv.gz: sha256 mismatch", StartedAt: base.Add(24 * time.Hour).UTC(),
		FinishedAt: base.Add(25 * time.Hour).UTC()}
	failed.ID, err = s.StartDumpLoad(ctx, failed)
	if err != nil {
		t.Fatal(err)
	}
	skipped := DumpLoad{Location: "dumps/2026-12-01/18/", Status: DumpSkipped, Error: "already loaded", Kind: DumpFull,
		StartedAt: base.Add(26 * time.Hour).UTC(), FinishedAt: base.Add(26 * time.Hour).UTC()}
	skipped.ID, err = s.StartDumpLoad(ctx, skipped)
	if err != nil {
		t.Fatal(err)
	}

	last, err := s.LastDumpLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "last succeeded load", last, done)
	loads, err = s.DumpLoads(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "loads, newest first", loads, []DumpLoad{skipped, failed, done})
	loads, err = s.DumpLoads(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "loads, limit 2", loads, []DumpLoad{skipped, failed})

	if err := s.FinishDumpLoad(ctx, DumpLoad{ID: id + 100, Status: DumpSucceeded}); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishDumpLoad of an unknown load: %v, want ErrNotFound", err)
	}
	if _, err := s.StartDumpLoad(ctx, DumpLoad{Status: "done"}); err == nil {
		t.Error("StartDumpLoad accepted status done")
	}
}

// TestDumpWatermarks: watermarks are set per table in one commit, replaced
// by the next commit's, and those of tables the next commit does not list
// are forgotten; groups are apart.
func TestDumpWatermarks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, true)
	if got, err := s.DumpWatermarks(ctx, "gitlab-org"); err != nil || len(got) != 0 {
		t.Fatalf("watermarks of an empty history: %v, %v", got, err)
	}
	t1 := time.Date(2026, 12, 1, 4, 0, 0, 1500, berlin)
	if err := s.CommitDumpWatermarks(ctx, "gitlab-org", "dumps/a/1/", map[string]time.Time{"issues": t1, "notes": t1}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitDumpWatermarks(ctx, "other", "dumps/b/1/", map[string]time.Time{"issues": t1}); err != nil {
		t.Fatal(err)
	}
	t2 := t1.Add(4 * time.Hour)
	if err := s.CommitDumpWatermarks(ctx, "gitlab-org", "dumps/a/2/", map[string]time.Time{"issues": t2}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DumpWatermarks(ctx, "gitlab-org")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "watermarks", got, []Watermark{{Table: "issues", Time: t2.Truncate(time.Microsecond).UTC(), Location: "dumps/a/2/"}})
	got, err = s.DumpWatermarks(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "other group's watermarks", got, []Watermark{{Table: "issues", Time: t1.Truncate(time.Microsecond).UTC(), Location: "dumps/b/1/"}})
}
