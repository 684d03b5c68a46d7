package catalog

import (
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleNamed(t *testing.T) {
	t.Parallel()
	from := date("2024-03-06T04:00:00Z") // a Wednesday
	for _, tc := range []struct {
		spec, cron string
		period     time.Duration
		next       string
	}{
		{"daily", "0 0 * * *", 24 * time.Hour, "2024-03-07T00:00:00Z"},
		{"weekly", "0 0 * * 1", 7 * 24 * time.Hour, "2024-03-11T00:00:00Z"},
		{"monthly", "0 0 1 * *", 31 * 24 * time.Hour, "2024-04-01T00:00:00Z"},
		{"30 2 * * 1-5", "30 2 * * 1-5", 72 * time.Hour, "2024-03-07T02:30:00Z"},
	} {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", tc.spec, err)
		}
		if s.Spec != tc.spec || s.String() != tc.spec || s.Cron() != tc.cron || s.Period() != tc.period {
			t.Errorf("%q: Spec %q, String %q, Cron %q, Period %s; want %[1]q, %[1]q, %q, %s",
				tc.spec, s.Spec, s.String(), s.Cron(), s.Period(), tc.cron, tc.period)
		}
		if got := s.Next(from); !got.Equal(date(tc.next)) {
			t.Errorf("%q: Next(%s) = %s, want %s", tc.spec, from, got, tc.next)
		}
	}
}

func TestScheduleZeroIsDaily(t *testing.T) {
	t.Parallel()
	var s Schedule
	if s.String() != "daily" || s.Cron() != "0 0 * * *" || s.Period() != 24*time.Hour {
		t.Errorf("zero Schedule: %q, %q, %s", s.String(), s.Cron(), s.Period())
	}
	if got := s.Next(date("2024-03-06T04:00:00Z")); !got.Equal(date("2024-03-07T00:00:00Z")) {
		t.Errorf("zero Schedule: Next = %s", got)
	}
}

func TestScheduleNextIsUTC(t *testing.T) {
	t.Parallel()
	s, err := ParseSchedule("0 4 * * *")
	if err != nil {
		t.Fatal(err)
	}
	berlin := time.FixedZone("CET", 3600)
	from := time.Date(2024, 3, 6, 4, 30, 0, 0, berlin) // 03:30 UTC
	if got := s.Next(from); !got.Equal(date("2024-03-06T04:00:00Z")) {
		t.Errorf("Next(%s) = %s, want 04:00 UTC the same day", from, got)
	}
}

func TestSchedulePeriod(t *testing.T) {
	t.Parallel()
	const d = 24 * time.Hour
	for _, tc := range []struct {
		spec string
		want time.Duration
	}{
		{"*/15 * * * *", 15 * time.Minute},
		{"* * * * *", time.Minute},
		{"0 9,17 * * *", 16 * time.Hour},
		{"0 0 1,15 * *", 17 * d}, // from the 15th to the 1st of a 31-day month
		{"0 0 * 1 *", 336 * d},   // from Jan 31 to Jan 1 after a leap year
		{"0 0 1 1 *", 366 * d},   // a leap year
		{"0 0 29 2 *", 1461 * d}, // leap days only
		{"0 0 13 * 5", 7 * d},    // the 13th or a Friday (cron's "or")
		{"0 0 */2 * *", 2 * d},   // odd days of the month: never more than two days apart
		{"0 12 * * 0", 7 * d},    // Sundays
		{"5 4 * * 6,0", 6 * d},   // weekends: Sunday to Saturday
	} {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", tc.spec, err)
		}
		if got := s.Period(); got != tc.want {
			t.Errorf("Period(%q) = %s (%.1f days), want %s", tc.spec, got, got.Hours()/24, tc.want)
		}
	}
}

// TestSchedulePeriodMatchesNext checks Period against the longest gap
// between the firings that robfig/cron's Next finds over 28 years.
func TestSchedulePeriodMatchesNext(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"0 0 */2 * *", "0 6 1-7 * 1", "30 1 * 2,8 *", "0 0 31 * *", "0 4 * * 1-5", "0 8,20 * * 1,3", "0 0 29 2 *"} {
		s, err := ParseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		var gap time.Duration
		prev := s.Next(date("2001-01-01T00:00:00Z"))
		for end := date("2029-01-01T00:00:00Z"); prev.Before(end); {
			next := s.Next(prev)
			gap = max(gap, next.Sub(prev))
			prev = next
		}
		if s.Period() != gap {
			t.Errorf("Period(%q) = %s, Next gives %s", spec, s.Period(), gap)
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, want string }{
		{"", "empty schedule"},
		{"@daily", "cron descriptors such as @daily or @every are not supported"},
		{"TZ=UTC", "schedules are always in UTC: remove the time zone"},
		{"fortnightly", "not " + ScheduleForms},
		{"every monday", "not " + ScheduleForms + ` (did you mean "weekly"? it runs on Mondays)`},
		{"Sun 4am", "not " + ScheduleForms + ` (did you mean "0 0 * * 0"? on Sundays)`},
		{"0 0 30 2 *", "schedule never fires"},
		{"0 , * * *", "schedule never fires"},
		{"1 2 3", "expected exactly 5 fields, found 3: [1 2 3]"},
		{"0 0 * * 7", "end of range (7) above maximum (6): 7"},
	} {
		_, err := ParseSchedule(tc.spec)
		if got := errString(err); got != tc.want {
			t.Errorf("ParseSchedule(%q) error = %q, want %q", tc.spec, got, tc.want)
		}
	}
}
