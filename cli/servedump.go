package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
)

// dumpScheduler is serve's dump scheduler (dump.schedule: true): every
// dump.every it makes a dump (an increment when it can, full when
// dump.full_every asks, see dump.Exporter.Plan) and, with dump.load, loads
// it into the warehouse. It runs under the dump lock, an advisory lock of
// its own on the history database (not the run lock: dumps and query
// runs do not wait for each other), so that only one replica dumps at a
// tick; the others skip it. At start it dumps at once when the newest
// succeeded dump of the group is older than dump.every (a missed tick).
// A ticker, not cron: the period is a duration, and a tick that comes
// while a dump still runs is dropped by time.Ticker itself.
type dumpScheduler struct {
	cfg   *Config
	store *history.Store
	wh    dump.Warehouse // nil: no load
	log   *slog.Logger
	// ticks are the ticks; nil means a time.Ticker of dump.every.
	ticks <-chan time.Time
	// done, when set, is told each tick's outcome (tests).
	done func(dumpOutcome)
}

// dumpOutcome is what one tick did.
type dumpOutcome struct {
	// Skipped: another replica holds the dump lock.
	Skipped  bool
	Manifest *dump.Manifest
	Load     *dump.LoadResult
	Err      error
}

// startDumpScheduler starts the dump scheduler when dump.schedule is on
// and returns the function that stops it and waits for a dump in progress
// to end (it is cancelled).
func startDumpScheduler(ctx context.Context, cfg *Config, store *history.Store, wh warehouseWriter, log *slog.Logger) (stop func()) {
	if !cfg.Dump.Schedule {
		return func() {}
	}
	s := &dumpScheduler{cfg: cfg, store: store, log: log.With(slog.String("component", "dump scheduler"))}
	if cfg.Dump.Load {
		dw, ok := wh.(dump.Warehouse)
		if !ok {
			log.Error("dump.load: this warehouse cannot load dumps; dumps are made, not loaded")
		} else {
			s.wh = dw
		}
	}
	return s.start(ctx)
}

func (s *dumpScheduler) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.loop(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

func (s *dumpScheduler) loop(ctx context.Context) {
	every := time.Duration(s.cfg.Dump.Every)
	ticks := s.ticks
	if ticks == nil {
		t := time.NewTicker(every)
		defer t.Stop()
		ticks = t.C
	}
	s.log.Info("dump scheduler started", slog.Duration("every", every), slog.Bool("load", s.wh != nil))
	if s.due(ctx, every) {
		s.tick(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			s.tick(ctx)
		}
	}
}

// due reports whether the group's newest succeeded dump is older than
// every, or there is none.
func (s *dumpScheduler) due(ctx context.Context, every time.Duration) bool {
	dumps, err := s.store.Dumps(ctx, 50)
	if err != nil {
		s.log.Warn("read dump history", slog.String("error", err.Error()))
		return true
	}
	for _, d := range dumps {
		if d.Group == s.cfg.Dump.Group && d.Status == history.DumpSucceeded {
			return time.Since(d.FinishedAt) >= every
		}
	}
	return true
}

// tick makes one dump (and load) under the dump lock. A panic becomes the
// tick's error: the scheduler goes on.
func (s *dumpScheduler) tick(ctx context.Context) {
	out := dumpOutcome{}
	defer func() {
		if r := recover(); r != nil {
			out.Err = fmt.Errorf("dump scheduler: panic: %v", r)
		}
		switch {
		case out.Err != nil && !errors.Is(out.Err, context.Canceled):
			s.log.Error("scheduled dump failed", slog.String("error", out.Err.Error()))
		case out.Skipped:
			s.log.Info("scheduled dump skipped: another replica holds the dump lock")
		}
		if s.done != nil {
			s.done(out)
		}
	}()
	release, ok, err := s.store.TryDumpLock(ctx)
	if err != nil {
		out.Err = err
		return
	}
	if !ok {
		out.Skipped = true
		return
	}
	defer release()
	out.Manifest, out.Load, out.Err = s.dumpAndLoad(ctx)
}

func (s *dumpScheduler) dumpAndLoad(ctx context.Context) (*dump.Manifest, *dump.LoadResult, error) {
	def, err := readDumpDefinition(s.cfg)
	if err != nil {
		return nil, nil, err
	}
	xcfg, err := dumpConfig(s.cfg, "")
	if err != nil {
		return nil, nil, err
	}
	bucket, err := dump.OpenBucket(ctx, s.cfg.Dump.StorageURL)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = bucket.Close() }()
	x, err := dump.New(xcfg, dump.Deps{Bucket: bucket, Recorder: s.store, Logger: s.log})
	if err != nil {
		return nil, nil, err
	}
	m, err := x.Dump(ctx, def)
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("scheduled dump written", slog.String("location", m.Location), slog.String("kind", string(m.Kind)))
	if s.wh == nil {
		return m, nil, nil
	}
	res, err := dump.NewLoader(dump.LoadConfig{}, bucket, s.wh, s.store, s.log).Load(ctx)
	if err != nil {
		return m, res, err
	}
	s.log.Info("scheduled load done", slog.String("location", m.Location), slog.Int("dumps", len(res.Loaded)))
	return m, res, nil
}
