package catalog

import (
	"testing"
	"time"
)

func TestParseRunScheduleEvery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec   string
		period time.Duration
		from   string
		next   string
	}{
		{"@every 10s", 10 * time.Second, "2026-12-01T04:00:03Z", "2026-12-01T04:00:10Z"},
		{"@every 10s", 10 * time.Second, "2026-12-01T04:00:10Z", "2026-12-01T04:00:20Z"},
		{"@every 6h", 6 * time.Hour, "2026-12-01T04:00:00Z", "2026-12-01T06:00:00Z"},
		{"@every 1m30s", 90 * time.Second, "1970-01-01T00:00:00Z", "1970-01-01T00:01:30Z"},
		{"@every 7s", 7 * time.Second, "1969-12-31T23:59:50Z", "1969-12-31T23:59:53Z"}, // before the epoch: still multiples of 7s
		{"daily", 24 * time.Hour, "2026-12-01T04:00:00Z", "2026-12-02T00:00:00Z"},      // the rest is ParseSchedule's
	} {
		s, err := ParseRunSchedule(tc.spec)
		if err != nil {
			t.Fatalf("ParseRunSchedule(%q): %v", tc.spec, err)
		}
		if s.Period() != tc.period || s.String() != tc.spec {
			t.Errorf("%q: period %s, string %q", tc.spec, s.Period(), s.String())
		}
		if got := s.Next(date(tc.from)); !got.Equal(date(tc.next)) {
			t.Errorf("%q: Next(%s) = %s, want %s", tc.spec, tc.from, got.UTC().Format(time.RFC3339), tc.next)
		}
	}
	// Next keeps the location of its argument, like a cron schedule's.
	s, _ := ParseRunSchedule("@every 1h")
	cet := time.FixedZone("CET", 3600)
	if got := s.Next(time.Date(2026, 12, 1, 4, 30, 0, 0, cet)); got.Location() != cet || !got.Equal(date("2026-12-01T04:00:00Z")) {
		t.Errorf("Next in CET = %s", got)
	}
}

func TestParseRunScheduleErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, want string }{
		{"@every 500ms", "@every 500ms: must be at least 1s"},
		{"@every 1.5s", "@every 1.5s: must be whole seconds"},
		{"@every soon", `@every: time: invalid duration "soon"`},
		{"@daily", "cron descriptors such as @daily or @every are not supported"},
		{"", "empty schedule"},
	} {
		_, err := ParseRunSchedule(tc.spec)
		if got := errString(err); got != tc.want {
			t.Errorf("ParseRunSchedule(%q) error = %q, want %q", tc.spec, got, tc.want)
		}
	}
	// Query headers keep refusing it.
	if _, err := ParseSchedule("@every 10s"); err == nil {
		t.Error("ParseSchedule accepts @every")
	}
}
