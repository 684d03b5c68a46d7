package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/schedule"
)

// dumpScheduler is serve's dump scheduler (dump.schedule: true): every
// dump.every it makes a dump (an increment when it can, full when
// dump.full_every asks, see dump.Exporter.Plan) and, with dump.load, loads
// it into the warehouse. The loop is schedule.Periodic's: under the dump
// lock, an advisory lock of its own on the history database (not the run
// lock: dumps and query runs do not wait for each other), so that only one
// replica dumps at a tick (the others skip it); at start it dumps at once
// when the newest succeeded dump of the group is older than dump.every (a
// missed tick, by schedule.EveryDue).
type dumpScheduler struct {
	cfg   *Config
	store *history.Store
	wh    dump.Warehouse // nil: no load
	log   *slog.Logger
	// ticks are the ticks; nil means a time.Ticker of dump.every.
	ticks <-chan time.Time
	// now is the clock; nil means time.Now.
	now func() time.Time
	// done, when set, is told each tick's outcome (tests).
	done func(dumpOutcome)
	// jobs is how the newest tick of the dump and of the load went, for
	// the status API; nil: not kept.
	jobs *dumpJobs
}

// dumpJobs is how the newest scheduled dump and load went: the status
// API's view of the dump scheduler (api.Jobs), so that a failure shows in
// the status, on the page and in metrics, also when it left no record in
// the history (the dump could not start, the history is down).
type dumpJobs struct {
	mu   sync.Mutex
	dump api.Job
	load *api.Job // nil: dumps are not loaded
}

var _ api.Jobs = (*dumpJobs)(nil)

// newDumpJobs is the jobs of cfg's dump scheduler.
func newDumpJobs(cfg *Config) *dumpJobs {
	j := &dumpJobs{dump: api.Job{Kind: "dump", Name: cfg.Dump.Group}}
	if cfg.Dump.Load {
		j.load = &api.Job{Kind: "load", Name: "warehouse"}
	}
	return j
}

// Jobs returns the dump's and the load's newest outcomes.
func (j *dumpJobs) Jobs() []api.Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []api.Job{j.dump}
	if j.load != nil {
		out = append(out, *j.load)
	}
	return out
}

// record notes a tick's outcome: the dump failed (no manifest), or it
// succeeded and the load failed (or not), at at.
func (j *dumpJobs) record(o dumpOutcome, at time.Time) {
	if j == nil || o.Skipped {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	note := func(job *api.Job, err error) {
		job.At = at
		if err == nil {
			job.Error, job.Failures = "", 0
			return
		}
		job.Error = err.Error()
		job.Failures++
	}
	if o.Manifest == nil {
		note(&j.dump, cmp.Or(o.Err, errNoManifest))
		return
	}
	note(&j.dump, nil)
	if j.load != nil {
		note(j.load, o.Err)
	}
}

// errNoManifest is a tick's failure when it made no dump and said nothing.
var errNoManifest = errors.New("no dump was made")

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
// jobs, when not nil, is told how each tick went.
func startDumpScheduler(ctx context.Context, cfg *Config, store *history.Store, wh warehouseWriter, log *slog.Logger, jobs *dumpJobs) (stop func()) {
	if !cfg.Dump.Schedule {
		return func() {}
	}
	s := &dumpScheduler{cfg: cfg, store: store, log: log.With(slog.String("component", "dump scheduler")), jobs: jobs}
	if cfg.Dump.Load {
		dw, ok := wh.(dump.Warehouse)
		if !ok {
			log.Error("dump.load: this warehouse cannot load dumps; dumps are made, not loaded")
			if jobs != nil {
				jobs.mu.Lock()
				jobs.load = nil
				jobs.mu.Unlock()
			}
		} else {
			s.wh = dw
		}
	}
	return s.start(ctx)
}

func (s *dumpScheduler) start(ctx context.Context) (stop func()) {
	every := time.Duration(s.cfg.Dump.Every)
	var out dumpOutcome // the tick's, written by Job, read by Done: one tick at a time
	p := &schedule.Periodic{
		Every: every, Ticks: s.ticks, Now: s.now, Logger: s.log,
		Last: s.lastSuccess,
		Lock: func(ctx context.Context) (func(), bool, error) { return s.store.TryDumpLock(ctx) },
		Job: func(ctx context.Context) error {
			out.Manifest, out.Load, out.Err = s.dumpAndLoad(ctx)
			return out.Err
		},
		Done: func(skipped bool, err error) {
			o := out
			out = dumpOutcome{}
			o.Skipped, o.Err = skipped, err
			switch {
			case err != nil:
				s.log.Error("scheduled dump failed", slog.String("error", err.Error()))
			case skipped:
				s.log.Info("scheduled dump skipped: another replica holds the dump lock")
			}
			now := time.Now
			if s.now != nil {
				now = s.now
			}
			s.jobs.record(o, now())
			if s.done != nil {
				s.done(o)
			}
		},
	}
	s.log.Info("dump scheduler started", slog.Duration("every", every), slog.Bool("load", s.wh != nil))
	return p.Start(ctx)
}

// lastSuccess is when the group's newest succeeded dump finished (zero:
// none among the newest 50).
func (s *dumpScheduler) lastSuccess(ctx context.Context) (time.Time, error) {
	dumps, err := s.store.Dumps(ctx, 50)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the dump history: %w", err)
	}
	for _, d := range dumps {
		if d.Group == s.cfg.Dump.Group && d.Status == history.DumpSucceeded {
			return d.FinishedAt, nil
		}
	}
	return time.Time{}, nil
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
