package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/schedule"
)

// ErrShuttingDown is the cause of the cancellation of a run's context when
// metricgate serve shuts down.
var ErrShuttingDown = schedule.ErrShuttingDown

// CancelledByShutdown is the error recorded for a query that a shutdown
// cancelled or kept from starting.
const CancelledByShutdown = "cancelled: metricgate is shutting down"

// ErrRunInProgress is returned by [Scheduler.Trigger] when a run is going
// on already, in this process or in another replica (which holds the run
// lock).
var ErrRunInProgress = schedule.ErrRunInProgress

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
// a way to mark runs failed that nobody is making any more.
type SchedulerStore interface {
	// TryWatchedRunLock takes the run lock without waiting, and watches
	// its session every watch; ok is false when another session holds it.
	TryWatchedRunLock(ctx context.Context, watch time.Duration) (lock *history.RunLock, ok bool, err error)
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
	// Schedule of the global run: a 5-field cron expression in UTC,
	// daily, weekly, monthly, or @every <duration> (catalog.ParseRunSchedule).
	// Default "0 4 * * *".
	Schedule string
	// ShutdownTimeout is how long the running queries may go on after
	// Shutdown before they are cancelled. Default 30s.
	ShutdownTimeout time.Duration
	// Recheck is how often the scheduler reads the clock again while it
	// waits for the next tick, so that a jump of the wall clock (NTP, a
	// machine resumed from suspend) is noticed within Recheck. Default 1m.
	Recheck time.Duration
	// RetryBackoff is the wait before trying a tick's run again when it
	// could not start (the history database unreachable, the run lock held
	// by another replica); it doubles at each attempt up to MaxRetryBackoff.
	// Default 1s.
	RetryBackoff time.Duration
	// MaxRetryBackoff bounds RetryBackoff's doubling. Default 5m.
	MaxRetryBackoff time.Duration
	// Reruns is how many times the queries of a scheduled run that failed
	// for a passing reason (the source restarted, a lost connection) are
	// run again, in runs of their own (trigger "rerun"), before the next
	// tick. Default 3; negative means never.
	Reruns int
	// RerunBackoff is the wait before the first rerun; it doubles for each
	// further one. Default 1m.
	RerunBackoff time.Duration
	// LockWatch is how often the run lock's session is checked while a
	// run holds it (it is checked before each query too). When the session
	// is gone (the history database restarted) and the lock cannot be
	// taken again, the run starts no more queries. Default 2s.
	LockWatch time.Duration
}

// Scheduled triggers: what Options.Trigger records for the runs the
// scheduler makes by itself.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerRerun    = "rerun"
)

// AbandonedReason is recorded for a run left running by a process that
// stopped (killed, crashed, its history session lost) before finishing it.
const AbandonedReason = "abandoned: the metricgate process making this run stopped before it finished"

// TickError is why the run of a tick could not start; the scheduler is
// trying again.
type TickError = schedule.TickError

// Scheduler makes the runs of metricgate serve: one per tick of the
// schedule, one at start when the last tick was missed (catch-up), and
// the ones asked for through Trigger. Every run is made while holding the
// run lock of the history database, so that of any number of replicas
// exactly one makes each run: a replica that does not get the lock tries
// again (with backoff) until it gets it, and then finds the tick's run
// made by the other replica and skips it, or makes it (the other died).
//
// Taking the lock, it marks the runs still recorded as running failed
// (AbandonedReason): only the lock holder makes runs, so those were left
// by a process that died holding the lock, or whose history session was
// lost.
//
// A tick whose run a shutdown ended (a deploy during the run: its queries
// were cancelled) counts as missed: the process started after it catches
// it up, so that the day does not stay stale until the next tick.
//
// A tick whose run cannot start (the history database is unreachable, the
// plan cannot be read) starts no run and records nothing; it is tried
// again with backoff, the reason is logged at every attempt and shown by
// TickError, until the run starts or the next tick supersedes it. When the
// clock jumps forward over several ticks, one run catches them up; when it
// jumps back, a tick whose run is made is not made again.
//
// The failed queries of a scheduled run that failed for a passing reason
// are run again (Reruns, RerunBackoff), so that a source restarted in the
// middle of the night does not leave the day's data missing.
//
// A panic in a run is recovered and recorded: the runs left running (the
// lock being held, they can only be this one) are marked failed with the
// panic, or a failed run is recorded when none was started.
//
// The wait for the next tick is its own loop rather than robfig/cron's:
// cron sleeps on one timer until the next tick, measured on the monotonic
// clock, which does not see the wall clock jump and, on Linux, stops
// during a suspend; this loop reads the wall clock (Deps.Now) again every
// Recheck, and lets tests drive the clock. A run still going on at the
// next tick is not skipped (as cron.SkipIfStillRunning would): when it
// ends, one run catches the missed tick up.
type Scheduler struct {
	cfg      SchedulerConfig
	schedule catalog.Schedule
	runner   RunMaker
	store    SchedulerStore
	plan     Planner
	log      *slog.Logger
	now      func() time.Time

	ctx    context.Context // runs' context, cancelled (ErrShuttingDown) at the shutdown deadline
	cancel context.CancelCauseFunc

	mu      sync.Mutex // guards closing stop against wg.Add, and tickErr
	stop    chan struct{}
	stopped bool
	wg      sync.WaitGroup
	busy    atomic.Bool                     // a run of this process is in progress
	current atomic.Int64                    // its id, once recorded
	lock    atomic.Pointer[history.RunLock] // the run lock, while held
	tickErr *TickError
	wake    chan struct{} // nudges the loop to read the clock now (tests)
}

// SchedulerDeps are what a Scheduler works with.
type SchedulerDeps struct {
	Runner RunMaker
	Store  SchedulerStore
	Plan   Planner
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now is the wall clock the schedule is read on. Default time.Now.
	Now func() time.Time
}

// NewScheduler returns a Scheduler; Start starts it.
func NewScheduler(cfg SchedulerConfig, deps SchedulerDeps) (*Scheduler, error) {
	cfg.Schedule = cmp.Or(cfg.Schedule, "0 4 * * *")
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, 30*time.Second)
	cfg.Recheck = cmp.Or(cfg.Recheck, time.Minute)
	cfg.RetryBackoff = cmp.Or(cfg.RetryBackoff, time.Second)
	cfg.MaxRetryBackoff = cmp.Or(cfg.MaxRetryBackoff, 5*time.Minute)
	cfg.Reruns = cmp.Or(cfg.Reruns, 3)
	cfg.RerunBackoff = cmp.Or(cfg.RerunBackoff, time.Minute)
	cfg.LockWatch = cmp.Or(cfg.LockWatch, history.DefaultLockWatch)
	sched, err := catalog.ParseRunSchedule(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("scheduler config: schedule %q: %w", cfg.Schedule, err)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"shutdown timeout", cfg.ShutdownTimeout}, {"recheck", cfg.Recheck}, {"retry backoff", cfg.RetryBackoff},
		{"max retry backoff", cfg.MaxRetryBackoff}, {"rerun backoff", cfg.RerunBackoff}, {"lock watch", cfg.LockWatch}} {
		if d.d < 0 {
			return nil, fmt.Errorf("scheduler config: %s %s: must be positive", d.name, d.d)
		}
	}
	if deps.Runner == nil || deps.Store == nil || deps.Plan == nil {
		return nil, errors.New("scheduler: a runner, a store and a planner are required")
	}
	s := &Scheduler{cfg: cfg, schedule: sched, runner: deps.Runner, store: deps.Store, plan: deps.Plan,
		log: deps.Logger, now: deps.Now, stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Start starts the scheduler in the background: first the catch-up
// decision (when the last tick's run was not made, because the process
// was down, one run starts now), then a run at every tick. Runs use ctx
// (give it one that shutdown signals do not cancel: Shutdown cancels runs
// itself, at its deadline, with ErrShuttingDown).
func (s *Scheduler) Start(ctx context.Context) {
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	// The catch-up decision is made here, holding the run lock for a
	// moment, so that a Trigger right after Start does not find the lock
	// taken by it.
	now := s.now()
	tick := prevTick(s.schedule, now)
	release, err := s.acquire(TriggerCatchUp, tick)
	first := func() (*Result, error) {
		if err != nil {
			return nil, err
		}
		defer release()
		return s.execute(TriggerCatchUp, nil, false, now, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		if err == nil {
			release()
		}
		return
	}
	s.wg.Go(func() { s.loop(tick, now, first) })
}

// Next returns the time of the next tick after now.
func (s *Scheduler) Next(now time.Time) time.Time { return s.schedule.Next(now) }

// Schedule returns the global schedule.
func (s *Scheduler) Schedule() catalog.Schedule { return s.schedule }

// Running returns the id of the run this process is making, 0 when none.
func (s *Scheduler) Running() int64 { return s.current.Load() }

// TickError returns why the run of the newest tick could not start, while
// the scheduler is trying again; ok is false when there is no such error.
func (s *Scheduler) TickError() (te TickError, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tickErr == nil {
		return TickError{}, false
	}
	return *s.tickErr, true
}

// Wake makes the scheduler read the clock now instead of at its next
// Recheck: for tests that move the clock given as Deps.Now.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) setTickError(te *TickError) {
	s.mu.Lock()
	s.tickErr = te
	s.mu.Unlock()
}

// errDeferred is acquire's answer when a run cannot be made now but will
// be later: this process or another replica is making a run. It has been
// logged.
var errDeferred = errors.New("deferred")

// loop is the scheduler's life: it decides what is due at the wall
// clock's time, makes it, and waits.
func (s *Scheduler) loop(firstTick, firstNow time.Time, first func() (*Result, error)) {
	var (
		handled  time.Time // the newest tick whose run is made (or found made)
		retryAt  time.Time // when to try the pending tick again; zero: now
		backoff  = s.cfg.RetryBackoff
		failures int
		rerun    *rerunPlan
		started  = true // the first tick looked at is the catch-up decision
	)
	for {
		now := s.now()
		due := prevTick(s.schedule, now)
		wait := s.cfg.Recheck
		switch {
		case first != nil || (due.After(handled) && !now.Before(retryAt)):
			trigger := TriggerSchedule
			if started || s.schedule.Next(handled).Before(due) {
				trigger = TriggerCatchUp // at start, or ticks were missed (a clock jump, a long run)
			}
			if !started && trigger == TriggerCatchUp {
				s.log.Warn("ticks missed: one run catches them up", slog.Time("last_tick", handled), slog.Time("tick", due))
			}
			var res *Result
			var err error
			if first != nil { // Start's decision
				due, now = firstTick, firstNow
				res, err = first()
				first = nil
			} else {
				res, err = s.attempt(trigger, due, now)
			}
			if res != nil && err != nil { // recorded, but its end could not be: the next run marks it abandoned
				s.log.Error("scheduled run", slog.Int64("run_id", res.RunID), slog.String("error", err.Error()))
			}
			switch {
			case err == nil, res != nil, errors.Is(err, errSkipped), errors.Is(err, errPanicked):
				handled, retryAt, backoff, failures, started = due, time.Time{}, s.cfg.RetryBackoff, 0, false
				s.setTickError(nil)
				rerun = s.planRerun(res, now)
				continue
			case errors.Is(err, ErrShuttingDown):
				return
			case errors.Is(err, errDeferred):
			default:
				failures++
				s.log.Error("the tick's run could not start; trying again", slog.Time("tick", due),
					slog.Int("attempt", failures), slog.Duration("backoff", backoff), slog.String("error", err.Error()))
				s.setTickError(&TickError{Tick: due, Error: err.Error(), Attempts: failures, At: now, RetryAt: now.Add(backoff)})
			}
			retryAt = now.Add(backoff)
			wait = backoff
			backoff = min(2*backoff, s.cfg.MaxRetryBackoff)
		case due.After(handled):
			wait = retryAt.Sub(now)
		case rerun != nil && !now.Before(rerun.at):
			res, err := s.attempt(TriggerRerun, time.Time{}, now, rerun.names...)
			switch {
			case errors.Is(err, ErrShuttingDown):
				return
			case errors.Is(err, errDeferred):
				rerun.at = now.Add(s.cfg.RetryBackoff)
			default:
				if err != nil {
					s.log.Error("rerun", slog.String("error", err.Error()))
				}
				rerun = rerun.next(s, res, now)
			}
			continue
		case rerun != nil:
			wait = rerun.at.Sub(now)
		}
		if next := s.schedule.Next(now).Sub(now); next < wait {
			wait = next
		}
		if !s.sleep(max(wait, time.Millisecond)) {
			return
		}
	}
}

// sleep waits d, or until Wake; false when the scheduler stops.
func (s *Scheduler) sleep(d time.Duration) bool {
	t := time.NewTimer(min(d, s.cfg.Recheck))
	defer t.Stop()
	select {
	case <-s.stop:
		return false
	case <-t.C:
	case <-s.wake:
	}
	return true
}

// attempt makes one run of the loop, recovering a panic outside the run
// itself (cron.Recover's job) as an error, so that the tick is tried again.
func (s *Scheduler) attempt(trigger string, tick, now time.Time, names ...string) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("scheduler panicked", slog.String("error", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.run(trigger, names, tick, now, nil)
}

// rerunPlan is the queries of a scheduled run that are to run again.
type rerunPlan struct {
	names   []string
	at      time.Time
	attempt int
	backoff time.Duration
}

// planRerun returns the rerun of res's queries that failed for a passing
// reason, or nil when there is none.
func (s *Scheduler) planRerun(res *Result, now time.Time) *rerunPlan {
	if s.cfg.Reruns < 0 || res == nil {
		return nil
	}
	names := rerunnable(res)
	if len(names) == 0 {
		return nil
	}
	s.log.Warn("queries failed for a passing reason: running them again later", slog.Int64("run_id", res.RunID),
		slog.Any("queries", names), slog.Duration("backoff", s.cfg.RerunBackoff))
	return &rerunPlan{names: names, at: now.Add(s.cfg.RerunBackoff), attempt: 1, backoff: s.cfg.RerunBackoff}
}

// next is the rerun after this one made res, or nil.
func (p *rerunPlan) next(s *Scheduler, res *Result, now time.Time) *rerunPlan {
	if p.attempt >= s.cfg.Reruns {
		if res != nil && len(rerunnable(res)) > 0 {
			s.log.Error("queries still failing after their reruns; the next tick tries again", slog.Any("queries", rerunnable(res)),
				slog.Int("reruns", p.attempt))
		}
		return nil
	}
	names := p.names
	if res != nil {
		names = rerunnable(res)
	}
	if len(names) == 0 {
		return nil
	}
	p.attempt++
	p.backoff *= 2
	p.names, p.at = names, now.Add(p.backoff)
	return p
}

// rerunnable returns the queries of res that failed for a reason that may
// pass (Result.Transient: retried after a transient error and still
// failing, their source unusable, their snapshot lost twice, the run lock
// lost), each once. A query that failed otherwise (an SQL error, the type
// rule, max_rows, a shutdown) would fail again.
func rerunnable(res *Result) []string {
	var names []string
	for i, q := range res.Queries {
		if q.Status == history.QueryFailed && i < len(res.Transient) && res.Transient[i] && !slices.Contains(names, q.Query) {
			names = append(names, q.Query)
		}
	}
	return names
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
		_, err := s.run(trigger, names, time.Time{}, s.now(), func(id int64) { started <- id })
		done <- err
	})
	s.mu.Unlock()
	select {
	case id := <-started:
		return id, nil
	case err := <-done:
		if err == nil || errors.Is(err, errSkipped) || errors.Is(err, errDeferred) {
			err = ErrRunInProgress
		}
		return 0, err
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
}

// errSkipped is run's answer when it did not run: the tick's run is made
// already (by another replica, or before a restart). It has been logged.
var errSkipped = errors.New("skipped")

// run makes one run while holding the run lock; see acquire.
func (s *Scheduler) run(trigger string, names []string, tick, now time.Time, started func(int64)) (*Result, error) {
	release, err := s.acquire(trigger, tick)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.execute(trigger, names, tick.IsZero() && len(names) == 0, now, started)
}

// acquire takes the run lock for a run of trigger, and marks this process
// busy, until release. When this process or another replica is making a
// run, it returns errDeferred (ErrRunInProgress for a run asked for
// through Trigger). With the lock, it marks the runs left running failed.
// For a scheduled trigger (tick not zero) it also checks that no scheduled
// run started at or after tick: else another replica made it, or this
// process before a restart, and the run is skipped (errSkipped). Both are
// logged.
func (s *Scheduler) acquire(trigger string, tick time.Time) (release func(), err error) {
	log := s.log.With(slog.String("trigger", trigger))
	if stopping(s.stop) {
		return nil, ErrShuttingDown
	}
	busy := errDeferred
	if tick.IsZero() && trigger != TriggerRerun {
		busy = ErrRunInProgress
	}
	if !s.busy.CompareAndSwap(false, true) {
		if errors.Is(busy, ErrRunInProgress) { // asked for now (POST /api/v1/runs): refused, not put off
			log.Info("run not started: this replica is making a run already")
		} else {
			log.Info("run deferred: this replica is making a run already")
		}
		return nil, busy
	}
	lockCtx, cancel := context.WithTimeoutCause(s.ctx, 30*time.Second, errors.New("take the run lock: no answer within 30s"))
	defer cancel()
	lock, ok, err := s.store.TryWatchedRunLock(lockCtx, s.cfg.LockWatch)
	if err != nil || !ok {
		s.busy.Store(false)
		if err != nil {
			return nil, err
		}
		if errors.Is(busy, ErrRunInProgress) {
			log.Info("run not started: another replica holds the run lock")
		} else {
			log.Info("run skipped: another replica holds the run lock; trying again later")
		}
		return nil, busy
	}
	log.Info("run lock taken")
	s.lock.Store(lock)
	release = func() {
		s.lock.Store(nil)
		lock.Release()
		s.busy.Store(false)
		log.Info("run lock released")
	}
	// The lock holder is the only one making runs: a run still running was
	// left by a process that died holding the lock.
	n, err := s.store.AbandonRunning(s.ctx, AbandonedReason)
	if err != nil {
		release()
		return nil, err
	}
	if n > 0 {
		log.Warn("marked runs left running by a stopped process as failed", slog.Int64("runs", n))
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
// recovered and recorded. An error means no run was recorded, or its end
// could not be.
func (s *Scheduler) execute(trigger string, names []string, all bool, now time.Time, started func(int64)) (res *Result, err error) {
	log := s.log.With(slog.String("trigger", trigger))
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, s.recordPanic(trigger, p)
		}
		s.current.Store(0)
	}()
	opts, err := s.plan(s.ctx, names, all, now)
	if err != nil {
		return nil, fmt.Errorf("plan the run: %w", err)
	}
	opts.Trigger, opts.Stop = trigger, s.stop
	if lock := s.lock.Load(); lock != nil {
		opts.Held = func(ctx context.Context) error {
			if err := lock.Check(ctx); err != nil {
				log.Error("run lock lost: starting no more queries", slog.String("error", err.Error()))
				return err
			}
			return nil
		}
	}
	opts.Started = func(id int64) {
		s.current.Store(id)
		if started != nil {
			started(id)
		}
	}
	res, err = s.runner.Run(s.ctx, opts)
	if err != nil {
		return res, err
	}
	if errors.Is(context.Cause(s.ctx), ErrShuttingDown) || stopping(s.stop) {
		log.Warn("run ended by shutdown", slog.Int64("run_id", res.RunID), slog.String("status", string(res.Status)))
	}
	return res, nil
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
		now := s.now()
		_, err = s.store.StartRun(ctx, history.Run{Trigger: trigger, Status: history.RunFailed, Error: reason,
			StartedAt: now, FinishedAt: now})
	}
	if err != nil {
		return fmt.Errorf("record the panicked run: %w", err)
	}
	return errPanicked
}

// errPanicked is the scheduler's answer for a run that panicked: it is
// recorded as failed, and not tried again.
var errPanicked = errors.New("the run panicked")

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
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
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
// catch-up, or the zero Run when there is none. Abandoned runs do not
// count: their process died in the middle (killed, or its history session
// lost), so their tick's run is made again; nor do runs a shutdown ended
// (a deploy during the run): the process started after it catches their
// tick up, and its plan picks the queries still due.
func lastScheduled(ctx context.Context, store SchedulerStore) (history.Run, error) {
	// Manual and API runs come in between; a few dozen runs back is plenty.
	runs, err := store.Runs(ctx, 50)
	if err != nil {
		return history.Run{}, err
	}
	for _, r := range runs {
		if (r.Trigger == TriggerSchedule || r.Trigger == TriggerCatchUp) && r.Error != AbandonedReason &&
			!strings.Contains(r.Error, CancelledByShutdown) {
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
