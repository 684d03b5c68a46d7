package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
)

// ErrShuttingDown is the cause of the cancellation of a run's context when
// metricgate serve shuts down.
var ErrShuttingDown = errors.New("metricgate is shutting down")

// CancelledByShutdown is the error recorded for a query that a shutdown
// cancelled or kept from starting.
const CancelledByShutdown = "cancelled: metricgate is shutting down"

// ErrRunInProgress is returned by [Scheduler.Trigger] when a run is going
// on already, in this process or in another replica (which holds the run
// lock).
var ErrRunInProgress = errors.New("a run is in progress")

// stopping reports whether stop is closed.
func stopping(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// RunMaker makes one run (*Runner).
type RunMaker interface {
	Run(ctx context.Context, opts Options) (*Result, error)
}

// SchedulerStore is what the scheduler needs of the history
// (*history.Store): the run lock, the runs made so far (for catch-up), and
// a way to record a run that panicked.
type SchedulerStore interface {
	// TryRunLock takes the run lock without waiting; ok is false when
	// another session holds it.
	TryRunLock(ctx context.Context) (release func(), ok bool, err error)
	Runs(ctx context.Context, limit int) ([]history.Run, error)
	AbandonRunning(ctx context.Context, reason string) (int64, error)
	StartRun(ctx context.Context, r history.Run) (int64, error)
}

// Planner chooses the queries of a run at now: the named ones when names
// is not empty, else the due ones (all of them when all is set). It reads
// the catalog afresh, so that a run sees the files as they are.
type Planner func(ctx context.Context, names []string, all bool, now time.Time) (Options, error)

// SchedulerConfig configures a Scheduler. Zero values mean the defaults.
type SchedulerConfig struct {
	// Schedule of the global run: a 5-field cron expression in UTC, or
	// daily, weekly, monthly. Default "0 4 * * *".
	Schedule string
	// ShutdownTimeout is how long the running queries may go on after
	// Shutdown before they are cancelled. Default 30s.
	ShutdownTimeout time.Duration
}

// Scheduled triggers: what Options.Trigger records for the runs the
// scheduler makes by itself.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
)

// Scheduler makes the runs of metricgate serve: one per tick of the
// schedule, one at start when the last tick was missed (catch-up), and
// the ones asked for through Trigger. Every run is made while holding the
// run lock of the history database, so that of any number of replicas
// exactly one makes each run: a replica that does not get the lock skips
// the tick and logs it; one that gets it after another replica has made
// the tick's run skips it too.
//
// robfig/cron drives the ticks, with cron.Recover and
// cron.SkipIfStillRunning; jobs use the context given to Start. A panic in
// a run is recovered and recorded: the runs left running (the lock being
// held, they can only be this one) are marked failed with the panic, or a
// failed run is recorded when none was started.
type Scheduler struct {
	cfg      SchedulerConfig
	schedule catalog.Schedule
	runner   RunMaker
	store    SchedulerStore
	plan     Planner
	log      *slog.Logger
	cron     *cron.Cron

	ctx    context.Context // runs' context, cancelled (ErrShuttingDown) at the shutdown deadline
	cancel context.CancelCauseFunc

	mu      sync.Mutex // guards closing stop against wg.Add
	stop    chan struct{}
	stopped bool
	wg      sync.WaitGroup
	busy    atomic.Bool  // a run of this process is in progress
	current atomic.Int64 // its id, once recorded
}

// SchedulerDeps are what a Scheduler works with.
type SchedulerDeps struct {
	Runner RunMaker
	Store  SchedulerStore
	Plan   Planner
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// NewScheduler returns a Scheduler; Start starts it.
func NewScheduler(cfg SchedulerConfig, deps SchedulerDeps) (*Scheduler, error) {
	cfg.Schedule = cmp.Or(cfg.Schedule, "0 4 * * *")
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, 30*time.Second)
	sched, err := catalog.ParseSchedule(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("scheduler config: schedule %q: %w", cfg.Schedule, err)
	}
	if cfg.ShutdownTimeout < 0 {
		return nil, fmt.Errorf("scheduler config: shutdown timeout %s: must be positive", cfg.ShutdownTimeout)
	}
	if deps.Runner == nil || deps.Store == nil || deps.Plan == nil {
		return nil, errors.New("scheduler: a runner, a store and a planner are required")
	}
	s := &Scheduler{cfg: cfg, schedule: sched, runner: deps.Runner, store: deps.Store, plan: deps.Plan,
		log: deps.Logger, stop: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	cl := cronLogger{s.log}
	s.cron = cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	s.cron.Schedule(sched, cron.FuncJob(s.tick))
	return s, nil
}

// Start starts the ticks and decides on a catch-up: when the last tick's
// run was not made (the process was down), one run starts now, in the
// background. Runs use ctx (give it one that shutdown signals do not
// cancel: Shutdown cancels runs itself, at its deadline, with
// ErrShuttingDown).
func (s *Scheduler) Start(ctx context.Context) {
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	now := time.Now()
	release, err := s.acquire(TriggerCatchUp, prevTick(s.schedule, now))
	switch {
	case err == nil:
		s.mu.Lock()
		s.wg.Go(func() {
			defer release()
			if err := s.execute(TriggerCatchUp, nil, false, now, nil); err != nil {
				s.log.Error("catch-up run", slog.String("error", err.Error()))
			}
		})
		s.mu.Unlock()
	case !errors.Is(err, errSkipped):
		s.log.Error("catch-up run", slog.String("error", err.Error()))
	}
	s.cron.Start()
}

// Next returns the time of the next tick after now.
func (s *Scheduler) Next(now time.Time) time.Time { return s.schedule.Next(now) }

// Schedule returns the global schedule.
func (s *Scheduler) Schedule() catalog.Schedule { return s.schedule }

// Running returns the id of the run this process is making, 0 when none.
func (s *Scheduler) Running() int64 { return s.current.Load() }

// tick is the cron job of every tick of the schedule.
func (s *Scheduler) tick() {
	now := time.Now()
	if err := s.run(TriggerSchedule, nil, prevTick(s.schedule, now), now, nil); err != nil && !errors.Is(err, errSkipped) {
		s.log.Error("scheduled run", slog.String("error", err.Error()))
	}
}

// Trigger starts a run now with the named queries, or every query of the
// catalog when names is empty, and returns its id once it is recorded; the
// run goes on in the background. It returns ErrRunInProgress when a run is
// going on (here or in another replica), ErrShuttingDown after Shutdown.
func (s *Scheduler) Trigger(ctx context.Context, trigger string, names []string) (int64, error) {
	started := make(chan int64, 1)
	done := make(chan error, 1)
	s.mu.Lock()
	if s.stopped || s.ctx == nil {
		s.mu.Unlock()
		return 0, ErrShuttingDown
	}
	s.wg.Go(func() {
		done <- s.run(trigger, names, time.Time{}, time.Now(), func(id int64) { started <- id })
	})
	s.mu.Unlock()
	select {
	case id := <-started:
		return id, nil
	case err := <-done:
		if err == nil || errors.Is(err, errSkipped) {
			err = ErrRunInProgress
		}
		return 0, err
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
}

// errSkipped is run's answer when it did not run: another replica holds
// the lock, or the tick's run is made already. It has been logged.
var errSkipped = errors.New("skipped")

// run makes one run while holding the run lock; see acquire.
func (s *Scheduler) run(trigger string, names []string, tick, now time.Time, started func(int64)) error {
	release, err := s.acquire(trigger, tick)
	if err != nil {
		return err
	}
	defer release()
	return s.execute(trigger, names, tick.IsZero() && len(names) == 0, now, started)
}

// acquire takes the run lock for a run of trigger, and marks this process
// busy, until release. For a scheduled trigger (tick not zero) it also
// checks that no scheduled run started at or after tick: else another
// replica made it, and the run is skipped (errSkipped, logged).
func (s *Scheduler) acquire(trigger string, tick time.Time) (release func(), err error) {
	log := s.log.With(slog.String("trigger", trigger))
	if stopping(s.stop) {
		return nil, ErrShuttingDown
	}
	skip := errSkipped
	if tick.IsZero() {
		skip = ErrRunInProgress
	}
	if !s.busy.CompareAndSwap(false, true) {
		log.Info("run skipped: this replica is making a run already")
		return nil, skip
	}
	unlock, ok, err := s.store.TryRunLock(s.ctx)
	if err != nil || !ok {
		s.busy.Store(false)
		if err != nil {
			return nil, err
		}
		log.Info("run skipped: another replica holds the run lock")
		return nil, skip
	}
	log.Info("run lock taken")
	release = func() {
		unlock()
		s.busy.Store(false)
		log.Info("run lock released")
	}
	if tick.IsZero() {
		return release, nil
	}
	last, err := lastScheduled(s.ctx, s.store)
	if err != nil {
		release()
		return nil, err
	}
	if !last.StartedAt.Before(tick) {
		if trigger == TriggerCatchUp {
			log.Info("no catch-up needed: the last tick's run was made", slog.Int64("run_id", last.ID),
				slog.Time("tick", tick))
		} else {
			log.Info("run skipped: another replica made this tick's run", slog.Int64("run_id", last.ID),
				slog.Time("tick", tick))
		}
		release()
		return nil, errSkipped
	}
	if trigger == TriggerCatchUp {
		log.Info("catching up a missed tick", slog.Time("tick", tick), slog.Time("last_run", last.StartedAt))
	}
	return release, nil
}

// execute plans and makes a run; the caller holds the run lock. A panic is
// recovered and recorded.
func (s *Scheduler) execute(trigger string, names []string, all bool, now time.Time, started func(int64)) (err error) {
	log := s.log.With(slog.String("trigger", trigger))
	defer func() {
		if p := recover(); p != nil {
			err = s.recordPanic(trigger, p)
		}
		s.current.Store(0)
	}()
	opts, err := s.plan(s.ctx, names, all, now)
	if err != nil {
		return fmt.Errorf("plan the run: %w", err)
	}
	opts.Trigger, opts.Stop = trigger, s.stop
	opts.Started = func(id int64) {
		s.current.Store(id)
		if started != nil {
			started(id)
		}
	}
	res, err := s.runner.Run(s.ctx, opts)
	if err != nil {
		return err
	}
	if errors.Is(context.Cause(s.ctx), ErrShuttingDown) || stopping(s.stop) {
		log.Warn("run ended by shutdown", slog.Int64("run_id", res.RunID), slog.String("status", string(res.Status)))
	}
	return nil
}

// recordPanic records a run that panicked as failed, and logs it with its
// stack. It runs with the run lock held: the runs still running are this
// process's.
func (s *Scheduler) recordPanic(trigger string, p any) error {
	reason := fmt.Sprintf("panic: %v", p)
	s.log.Error("run panicked", slog.String("trigger", trigger), slog.String("error", reason),
		slog.String("stack", string(debug.Stack())))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 30*time.Second)
	defer cancel()
	n, err := s.store.AbandonRunning(ctx, reason)
	if err == nil && n == 0 { // it panicked before it was recorded
		now := time.Now()
		_, err = s.store.StartRun(ctx, history.Run{Trigger: trigger, Status: history.RunFailed, Error: reason,
			StartedAt: now, FinishedAt: now})
	}
	if err != nil {
		return fmt.Errorf("record the panicked run: %w", err)
	}
	return errors.New(reason)
}

// Shutdown stops the scheduler: no more ticks, no more runs and no more
// queries are started; the running queries get ShutdownTimeout to finish,
// then they are cancelled (recorded as CancelledByShutdown) and the run
// records its outcome. It returns when the runs have ended, or ctx's error
// when ctx ends first.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	s.mu.Unlock()
	cronDone := s.cron.Stop()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		<-cronDone.Done()
		close(done)
	}()
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
		s.log.Warn("shutdown: cancelling the running queries", slog.Duration("timeout", s.cfg.ShutdownTimeout))
	case <-ctx.Done():
	}
	if s.cancel != nil {
		s.cancel(ErrShuttingDown)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shut down the scheduler: %w", context.Cause(ctx))
	}
}

// lastScheduled returns the newest run started by the schedule or a
// catch-up, or the zero Run when there is none.
func lastScheduled(ctx context.Context, store SchedulerStore) (history.Run, error) {
	// Manual and API runs come in between; a few dozen runs back is plenty.
	runs, err := store.Runs(ctx, 50)
	if err != nil {
		return history.Run{}, err
	}
	for _, r := range runs {
		if r.Trigger == TriggerSchedule || r.Trigger == TriggerCatchUp {
			return r, nil
		}
	}
	return history.Run{}, nil
}

// prevTick returns the last time at or before now that sched fires.
func prevTick(sched catalog.Schedule, now time.Time) time.Time {
	// The gap between two firings is at most one Period.
	var last time.Time
	for t := sched.Next(now.Add(-sched.Period() - time.Minute)); !t.After(now); t = sched.Next(t) {
		last = t
	}
	return last
}

// cronLogger logs robfig/cron's messages: its chatter at debug level, its
// errors (a recovered panic) at error level.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, keysAndValues ...any) {
	l.log.Debug("cron: "+msg, keysAndValues...)
}

func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.log.Error("cron: "+msg, append([]any{slog.String("error", err.Error())}, keysAndValues...)...)
}
