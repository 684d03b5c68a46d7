package catalog

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
)

// Named schedules and the cron expressions they stand for. Times are UTC.
var namedSchedules = []struct{ name, cron string }{
	{"daily", "0 0 * * *"},   // every day
	{"weekly", "0 0 * * 1"},  // Mondays
	{"monthly", "0 0 1 * *"}, // the 1st of every month
}

// Periods of the named schedules: the longest gap between two firings.
const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 31 * day
)

// A Schedule says on which of the global runs a query is due.
//
// metricgate runs all queries together once per global run (the operator's
// schedule, daily at 04:00 UTC by default). A query's schedule does not
// start runs of its own; it selects the runs the query takes part in: the
// query is due at a run at time R when Next(last) <= R, where last is the
// time of its last successful run. So "daily" (0 0 * * *) means every
// global run, "weekly" (0 0 * * 1) the first run on or after each Monday,
// "monthly" (0 0 1 * *) the first run on or after the 1st, and a missed run
// is caught up by the next one. A cron expression is read the same way, in
// UTC.
//
// The zero Schedule behaves as "daily".
type Schedule struct {
	// Spec is the schedule as written in the header: "daily", "weekly",
	// "monthly" or a 5-field cron expression; "" for the zero Schedule.
	Spec string

	cron   string             // the effective 5-field cron expression
	sched  *cron.SpecSchedule // parsed cron, in UTC
	period time.Duration      // longest gap between two firings
	every  time.Duration      // "@every" schedules (ParseRunSchedule): the interval; sched is nil
}

// errNeverFires is ParseSchedule's error for a valid cron expression that
// matches no time, such as "0 0 30 2 *".
var errNeverFires = errors.New("schedule never fires")

// cronParser accepts standard 5-field cron expressions and nothing else:
// no seconds field, no descriptors such as @every.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// starBit is robfig/cron's marker for a field written as * or ?.
const starBit = 1 << 63

// ParseSchedule parses a schedule as written in a query header: "daily",
// "weekly", "monthly" or a standard 5-field cron expression (minute, hour,
// day of month, month, day of week) read in UTC. Descriptors (@daily,
// @every 1h), time zone prefixes (TZ=, CRON_TZ=) and schedules that never
// fire (0 0 30 2 *) are errors.
func ParseSchedule(spec string) (Schedule, error) {
	for _, n := range namedSchedules {
		if spec == n.name {
			return newSchedule(spec, n.cron)
		}
	}
	switch {
	case spec == "":
		return Schedule{}, errors.New("empty schedule")
	case strings.HasPrefix(spec, "@"):
		return Schedule{}, errors.New("cron descriptors such as @daily or @every are not supported")
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		return Schedule{}, errors.New("schedules are always in UTC: remove the time zone")
	case !strings.ContainsAny(spec, " \t") || !looksLikeCron(spec):
		return Schedule{}, fmt.Errorf("not %s%s", ScheduleForms, weekdayHint(spec))
	}
	return newSchedule(spec, spec)
}

// ScheduleForms says what a schedule may be, for messages.
const ScheduleForms = `daily, weekly (Mondays), monthly (the 1st) or a 5-field cron expression in UTC ` +
	`(minute hour day-of-month month day-of-week, such as "0 0 * * 3" for Wednesdays)`

// looksLikeCron reports whether the first two fields of spec (minute,
// hour) have no letters: an attempt at a cron expression, whose parse
// error is worth showing, rather than words ("every monday").
func looksLikeCron(spec string) bool {
	f := strings.Fields(spec)
	return len(f) >= 2 && !strings.ContainsFunc(f[0]+f[1], unicode.IsLetter)
}

// weekdays are the day-of-week numbers of cron.
var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// weekdayHint suggests the schedule of a spec written in words that names
// a day of the week ("every monday": weekly), or "".
func weekdayHint(spec string) string {
	lower := strings.ToLower(spec)
	for i, d := range weekdays {
		if strings.Contains(lower, d) || strings.Contains(lower, d[:3]+" ") || strings.HasSuffix(lower, " "+d[:3]) {
			if i == 1 {
				return ` (did you mean "weekly"? it runs on Mondays)`
			}
			return fmt.Sprintf(` (did you mean "0 0 * * %d"? on %ss)`, i, strings.ToUpper(d[:1])+d[1:])
		}
	}
	return ""
}

// ParseRunSchedule parses the schedule of the global run (the schedule
// setting of metricgate serve): what ParseSchedule accepts, and also
// "@every <duration>" (at least 1s, whole seconds), which fires at every
// multiple of the duration since the Unix epoch in UTC: "@every 10s" at
// :00, :10, :20, … of every minute, "@every 6h" at 00:00, 06:00, 12:00
// and 18:00. The @every form is for tests and for operators who want
// runs more often than a cron expression allows; query headers do not
// accept it.
func ParseRunSchedule(spec string) (Schedule, error) {
	rest, ok := strings.CutPrefix(spec, "@every ")
	if !ok {
		return ParseSchedule(spec)
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	switch {
	case err != nil:
		return Schedule{}, fmt.Errorf("@every: %w", err)
	case d < time.Second:
		return Schedule{}, fmt.Errorf("@every %s: must be at least 1s", d)
	case d%time.Second != 0:
		return Schedule{}, fmt.Errorf("@every %s: must be whole seconds", d)
	}
	return Schedule{Spec: spec, cron: "@every " + d.String(), period: d, every: d}, nil
}

func newSchedule(spec, expr string) (Schedule, error) {
	parsed, err := cronParser.Parse(expr)
	if err != nil {
		return Schedule{}, err
	}
	sched, ok := parsed.(*cron.SpecSchedule)
	if !ok { // cannot happen without descriptors; stay safe anyway
		return Schedule{}, fmt.Errorf("unexpected schedule type %T", parsed)
	}
	sched.Location = time.UTC
	s := Schedule{Spec: spec, cron: expr, sched: sched}
	switch spec {
	case "daily":
		s.period = day
	case "weekly":
		s.period = week
	case "monthly":
		s.period = month
	default:
		s.period = maxGap(sched)
		if s.period == 0 {
			return Schedule{}, errNeverFires
		}
	}
	return s, nil
}

// daily is the schedule the zero Schedule stands for.
var daily = func() Schedule {
	s, err := ParseSchedule("daily")
	if err != nil {
		panic(err) // a constant: cannot fail
	}
	return s
}()

func (s Schedule) orDaily() Schedule {
	if s.sched == nil && s.every == 0 {
		return daily
	}
	return s
}

// Cron returns the 5-field cron expression the schedule stands for, such
// as "0 0 * * 1" for weekly, or "@every 10s" for an @every schedule.
func (s Schedule) Cron() string { return s.orDaily().cron }

// String returns the schedule as written, or "daily" for the zero Schedule.
func (s Schedule) String() string { return s.orDaily().Spec }

// Next returns the first time after t at which the schedule fires, in t's
// location. See Schedule for how the runner uses it.
func (s Schedule) Next(t time.Time) time.Time {
	s = s.orDaily()
	if s.every > 0 {
		// Multiples of every since the epoch (time.Truncate counts from
		// year 1, which is not a whole number of every's from 1970).
		sec := int64(s.every / time.Second)
		u := t.Unix()
		next := (u/sec + 1) * sec
		if u < 0 && u%sec != 0 {
			next = (u / sec) * sec
		}
		return time.Unix(next, 0).In(t.Location())
	}
	return s.sched.Next(t)
}

// Period approximates the schedule's interval by the longest gap between
// two consecutive firings: 24h for daily, 7*24h for weekly, 31*24h for
// monthly, and for a cron expression the longest gap found over a 28-year
// calendar cycle (which covers every weekday and leap-year combination).
// Freshness checks allow a query one Period (plus the run's own duration)
// before calling its data stale. A cron expression that fires more often
// than the global run has a Period shorter than the run interval; callers
// compare with the larger of the two.
func (s Schedule) Period() time.Duration { return s.orDaily().period }

// maxGap returns the longest gap between consecutive firings of sched, or 0
// when it never fires. It looks at whole days: the times of day are the
// same on every day the schedule fires, so a gap is either between two
// times within one day or from the last time of one firing day to the
// first time of the next.
func maxGap(sched *cron.SpecSchedule) time.Duration {
	var times []time.Duration // times of day, ascending
	for h := range 24 {
		if sched.Hour&(1<<h) == 0 {
			continue
		}
		for m := range 60 {
			if sched.Minute&(1<<m) != 0 {
				times = append(times, time.Duration(h)*time.Hour+time.Duration(m)*time.Minute)
			}
		}
	}
	if len(times) == 0 {
		return 0
	}
	var gap time.Duration
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i]-times[i-1])
	}
	first, last := times[0], times[len(times)-1]

	// Common case: every month, any day of the month, some weekdays.
	const allMonths = 0b1111111111110
	if sched.Dom&starBit != 0 && sched.Month&allMonths == allMonths {
		prev := -1
		for d := range 14 { // two weeks, so that the gap wraps around
			if sched.Dow&(1<<(d%7)) == 0 {
				continue
			}
			if prev >= 0 {
				gap = max(gap, time.Duration(d-prev)*day-last+first)
			}
			prev = d
		}
		if prev < 0 {
			return 0
		}
		return gap
	}

	// Otherwise walk the days of 2001-01-01 .. 2028-12-31: 28 years within one
	// century repeat exactly, so the walk is a cycle and the gap from the
	// last firing day wraps around to the first.
	const cycleDays = 28*365 + 7
	domStar, dowStar := sched.Dom&starBit != 0, sched.Dow&starBit != 0
	firstDay, prevDay := -1, -1
	weekday := int(time.Monday) // 2001-01-01
	n := 0
	for year := 2001; year <= 2028; year++ {
		for mon := 1; mon <= 12; mon++ {
			days := daysIn(year, mon)
			monthOK := sched.Month&(1<<mon) != 0
			for d := 1; d <= days; d++ {
				if monthOK {
					domOK := sched.Dom&(1<<d) != 0
					dowOK := sched.Dow&(1<<weekday) != 0
					ok := domOK || dowOK
					if domStar || dowStar {
						ok = domOK && dowOK
					}
					if ok {
						if prevDay >= 0 {
							gap = max(gap, time.Duration(n-prevDay)*day-last+first)
						} else {
							firstDay = n
						}
						prevDay = n
					}
				}
				n++
				weekday = (weekday + 1) % 7
			}
		}
	}
	if firstDay < 0 {
		return 0
	}
	return max(gap, time.Duration(firstDay+cycleDays-prevDay)*day-last+first)
}

func daysIn(year, mon int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
