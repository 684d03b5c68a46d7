package schedule_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/schedule"
)

type outcome struct {
	skipped bool
	err     error
}

// TestPeriodic drives the loop with its own clock and ticks: at start it
// runs the job only when the newest success is a period old by that
// clock; every tick runs it under the lock, a held lock skips the tick,
// and a failing or panicking job is the tick's error, after which the
// loop goes on.
func TestPeriodic(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		last    time.Duration // before now; 0: never
		atStart bool
	}{{0, true}, {3 * time.Hour, false}, {4 * time.Hour, true}} {
		ticks := make(chan time.Time)
		outcomes := make(chan outcome, 1)
		jobs := 0
		held, fail, panics := false, false, false
		p := &schedule.Periodic{
			Every: 4 * time.Hour,
			Now:   func() time.Time { return now },
			Ticks: ticks,
			Last: func(context.Context) (time.Time, error) {
				if c.last == 0 {
					return time.Time{}, nil
				}
				return now.Add(-c.last), nil
			},
			Lock: func(context.Context) (func(), bool, error) { return func() {}, !held, nil },
			Job: func(context.Context) error {
				jobs++
				if panics {
					panic("boom")
				}
				if fail {
					return errors.New("dump: source unreachable")
				}
				return nil
			},
			Done: func(skipped bool, err error) { outcomes <- outcome{skipped, err} },
		}
		stop := p.Start(t.Context())
		if c.atStart {
			if o := <-outcomes; o.skipped || o.err != nil || jobs != 1 {
				t.Errorf("last %s ago: at start %+v after %d jobs, want one job", c.last, o, jobs)
			}
		}
		ticks <- now
		<-outcomes
		want := 1
		if c.atStart {
			want = 2
		}
		if jobs != want {
			t.Errorf("last %s ago: %d jobs after a tick, want %d (due at start: %v)", c.last, jobs, want, c.atStart)
		}
		held = true
		ticks <- now
		if o := <-outcomes; !o.skipped || jobs != want {
			t.Errorf("tick while the lock is held: %+v, %d jobs", o, jobs)
		}
		held, fail = false, true
		ticks <- now
		if o := <-outcomes; o.err == nil || !strings.Contains(o.err.Error(), "source unreachable") {
			t.Errorf("failing job: %+v", o)
		}
		fail, panics = false, true
		ticks <- now
		if o := <-outcomes; o.err == nil || !strings.Contains(o.err.Error(), "panic: boom") {
			t.Errorf("panicking job: %+v", o)
		}
		panics = false
		ticks <- now
		if o := <-outcomes; o.err != nil || o.skipped {
			t.Errorf("the tick after a panic: %+v", o)
		}
		stop()
	}
}
