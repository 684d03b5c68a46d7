package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Periodic makes a job every Every (serve's dumps: dump.every), under a
// lock that only one replica holds at a time (the others skip the tick),
// and at start when the job is due (EveryDue: its newest success is at
// least Every old, or there is none: a missed tick). A tick that comes
// while the job still runs is dropped. A panic in the job becomes the
// tick's error; the loop goes on.
//
// It is a loop of its own rather than robfig/cron's: the period is a
// duration, not a cron expression, and the clock (Now) and the ticks
// (Ticks) are injectable, so that tests decide when a tick comes and what
// time it is.
type Periodic struct {
	// Every is the period. Required.
	Every time.Duration
	// Last returns when the job last succeeded (zero: never).
	Last func(ctx context.Context) (time.Time, error)
	// Lock takes the job's lock without waiting; ok is false when another
	// replica holds it.
	Lock func(ctx context.Context) (release func(), ok bool, err error)
	// Job is the work of one tick.
	Job func(ctx context.Context) error
	// Done, when set, is told each tick's outcome: skipped (another
	// replica held the lock), and the job's (or the lock's) error.
	Done func(skipped bool, err error)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Ticks are the ticks; nil means a time.Ticker of Every.
	Ticks <-chan time.Time
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Start starts the loop in the background and returns the function that
// stops it and waits for a job in progress to end (ctx's cancellation
// reaches it).
func (p *Periodic) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.loop(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

func (p *Periodic) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *Periodic) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *Periodic) loop(ctx context.Context) {
	ticks := p.Ticks
	if ticks == nil {
		t := time.NewTicker(p.Every)
		defer t.Stop()
		ticks = t.C
	}
	if p.due(ctx) {
		p.Tick(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			p.Tick(ctx)
		}
	}
}

// due reports whether the job is due at start; when its history cannot
// be read, it is (a dump too many is better than a day without).
func (p *Periodic) due(ctx context.Context) bool {
	last, err := p.Last(ctx)
	if err != nil {
		p.log().Warn("read when the job last succeeded", slog.String("error", err.Error()))
		return true
	}
	return EveryDue(p.Every, last, p.now())
}

// Tick makes the job once under the lock, now.
func (p *Periodic) Tick(ctx context.Context) {
	var skipped bool
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = nil // stopping is not a failure
		}
		if p.Done != nil {
			p.Done(skipped, err)
		}
	}()
	release, ok, err := p.Lock(ctx)
	if err != nil {
		err = fmt.Errorf("take the lock: %w", err)
		return
	}
	if !ok {
		skipped = true
		return
	}
	defer release()
	err = p.Job(ctx)
}
