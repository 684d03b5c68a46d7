package runner_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
)

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fakeRun is a RunMaker that records a run with no queries in the real
// history, taking d (of the bubble's fake time) to do it, or panics.
type fakeRun struct {
	store *history.Store
	d     time.Duration
	panic bool
	now   func() time.Time // default time.Now
	// fail, when set, gives the query runs of a run (a rerun gets its
	// Options.Queries' names through Planner; fakeRun reports on them).
	// The transient ones are those whose Error starts with "transient: ".
	fail func(opts runner.Options) []history.QueryRun
}

func (f *fakeRun) Run(ctx context.Context, opts runner.Options) (*runner.Result, error) {
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	id, err := f.store.StartRun(ctx, history.Run{Trigger: opts.Trigger, Status: history.RunRunning, StartedAt: now()})
	if err != nil {
		return nil, err
	}
	if opts.Started != nil {
		opts.Started(id)
	}
	if f.panic {
		panic("boom")
	}
	time.Sleep(f.d)
	res := &runner.Result{RunID: id, Status: history.RunSucceeded}
	if f.fail != nil {
		res.Queries = f.fail(opts)
		for _, q := range res.Queries {
			res.Transient = append(res.Transient, strings.HasPrefix(q.Error, "transient: "))
		}
		if len(res.Queries) > 0 {
			res.Status = history.RunPartial
		}
	}
	if err := f.store.FinishRun(ctx, id, res.Status, "", now()); err != nil {
		return nil, err
	}
	return res, nil
}

func noPlan(context.Context, []string, bool, time.Time) (runner.Options, error) {
	return runner.Options{}, nil
}

// openStore opens and migrates the history at dsn; inside a synctest
// bubble, so that the pool's goroutines and timers belong to it.
func openStore(t *testing.T, dsn string) *history.Store {
	t.Helper()
	s, err := history.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// replica is one serve process's scheduler, with its own history sessions.
type replica struct {
	store *history.Store
	sched *runner.Scheduler
	log   *syncBuffer
}

func newReplica(t *testing.T, dsn, schedule string, d time.Duration) *replica {
	t.Helper()
	r := &replica{store: openStore(t, dsn), log: &syncBuffer{}}
	var err error
	r.sched, err = runner.NewScheduler(runner.SchedulerConfig{Schedule: schedule}, runner.SchedulerDeps{
		Runner: &fakeRun{store: r.store, d: d}, Store: r.store, Plan: noPlan,
		Logger: slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *replica) stop(t *testing.T) {
	t.Helper()
	if err := r.sched.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if err := r.store.Close(); err != nil {
		t.Error(err)
	}
}

// runsByTrigger returns the start times of the runs, oldest first, per
// trigger.
func runsByTrigger(t *testing.T, s *history.Store) map[string][]time.Time {
	t.Helper()
	runs, err := s.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]time.Time{}
	for i := len(runs) - 1; i >= 0; i-- {
		out[runs[i].Trigger] = append(out[runs[i].Trigger], runs[i].StartedAt)
	}
	return out
}

func TestSchedulerTicksPerSchedule(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	for _, tc := range []struct {
		schedule string
		want     []string // start times of the scheduled runs within the first 3 days
	}{
		{"0 4 * * *", []string{"2000-01-01T04:00:00Z", "2000-01-02T04:00:00Z", "2000-01-03T04:00:00Z"}},
		{"30 6 * * 1", []string{"2000-01-03T06:30:00Z"}}, // 2000-01-03 is a Monday
		{"0 */12 * * *", []string{"2000-01-01T12:00:00Z", "2000-01-02T00:00:00Z", "2000-01-02T12:00:00Z",
			"2000-01-03T00:00:00Z", "2000-01-03T12:00:00Z"}},
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			reset(t, dsn)
			synctest.Test(t, func(t *testing.T) {
				// The bubble's clock starts at 2000-01-01T00:00:00Z.
				r := newReplica(t, dsn, tc.schedule, time.Minute)
				r.sched.Start(context.Background())
				time.Sleep(72*time.Hour - time.Second)
				synctest.Wait()
				got := runsByTrigger(t, r.store)
				r.stop(t)
				var starts []string
				for _, at := range got[runner.TriggerSchedule] {
					starts = append(starts, at.Format(time.RFC3339))
				}
				if strings.Join(starts, " ") != strings.Join(tc.want, " ") {
					t.Errorf("scheduled runs started at\n  %v\nwant\n  %v", starts, tc.want)
				}
				// An empty history: the first tick is caught up at start, once.
				if c := got[runner.TriggerCatchUp]; len(c) != 1 || !c[0].Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("catch-up runs %v, want one at start", c)
				}
			})
		})
	}
}

// reset empties the history at dsn between subtests.
func reset(t *testing.T, dsn string) {
	t.Helper()
	s := openStore(t, dsn)
	defer func() { _ = s.Close() }()
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(t.Context(), "TRUNCATE runs CASCADE"); err != nil {
		t.Fatal(err)
	}
}

func TestSchedulerTwoReplicasOneRunPerTick(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	// A long run holds the lock while the other replica tries it; an
	// instant one is over before the other replica looks, which then finds
	// the tick's run made.
	for _, d := range []time.Duration{10 * time.Minute, 0} {
		t.Run(d.String(), func(t *testing.T) {
			reset(t, dsn)
			synctest.Test(t, func(t *testing.T) {
				a := newReplica(t, dsn, "0 4 * * *", d)
				b := newReplica(t, dsn, "0 4 * * *", d)
				a.sched.Start(context.Background())
				b.sched.Start(context.Background())
				time.Sleep(5*24*time.Hour - time.Second)
				synctest.Wait()
				got := runsByTrigger(t, a.store)
				a.stop(t)
				b.stop(t)
				if n := len(got[runner.TriggerSchedule]); n != 5 {
					t.Errorf("%d scheduled runs in 5 days with two replicas, want 5: %v", n, got)
				}
				if n := len(got[runner.TriggerCatchUp]); n != 1 {
					t.Errorf("%d catch-up runs, want 1: %v", n, got)
				}
				skips := strings.Count(a.log.String()+b.log.String(), "run skipped: another replica")
				if skips < 5 {
					t.Errorf("%d log lines of skipped ticks, want one per tick at least:\n%s\n%s", skips, a.log, b.log)
				}
			})
		})
	}
}

func TestSchedulerCatchesUpAMissedTickOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		// The bubble starts at 2000-01-01T00:00Z; the last tick was
		// 1999-12-31T04:00Z and the last run is from the day before: the
		// process was down at the last tick.
		s := openStore(t, dsn)
		if _, err := s.StartRun(t.Context(), history.Run{Trigger: runner.TriggerSchedule, Status: history.RunSucceeded,
			StartedAt: time.Date(1999, 12, 30, 4, 0, 0, 0, time.UTC), FinishedAt: time.Date(1999, 12, 30, 4, 5, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()

		for range 3 { // three restarts before the next tick
			r := newReplica(t, dsn, "0 4 * * *", time.Minute)
			r.sched.Start(context.Background())
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			r.stop(t)
		}
		s = openStore(t, dsn)
		got := runsByTrigger(t, s)
		_ = s.Close()
		if c := got[runner.TriggerCatchUp]; len(c) != 1 || !c[0].Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("catch-up runs %v, want one, at the first start", c)
		}
		if n := len(got[runner.TriggerSchedule]); n != 1 {
			t.Errorf("%d scheduled runs, want only the old one", n)
		}
	})
}

func TestSchedulerRecordsAPanicAsAFailedRun(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, dsn)
		log := &syncBuffer{}
		sched, err := runner.NewScheduler(runner.SchedulerConfig{}, runner.SchedulerDeps{
			Runner: &fakeRun{store: s, panic: true}, Store: s, Plan: noPlan,
			Logger: slog.New(slog.NewTextHandler(log, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		sched.Start(context.Background()) // the catch-up run panics
		time.Sleep(5 * time.Hour)         // and so does the 04:00 tick's, under cron.Recover
		synctest.Wait()
		if err := sched.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		runs, err := s.Runs(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		if len(runs) != 2 {
			t.Fatalf("%d runs, want 2: %+v", len(runs), runs)
		}
		for _, r := range runs {
			if r.Status != history.RunFailed || r.Error != "panic: boom" || r.FinishedAt.IsZero() {
				t.Errorf("run %d: %s %q finished %v; want failed, panic: boom", r.ID, r.Status, r.Error, r.FinishedAt)
			}
		}
		if !strings.Contains(log.String(), "run panicked") {
			t.Errorf("no log line of the panic:\n%s", log)
		}
	})
}

// signalRecorder passes records to the history, and closes running when
// the query named slow starts.
type signalRecorder struct {
	*history.Store
	slow    string
	running chan struct{}
	once    sync.Once
}

func (r *signalRecorder) StartQueryRun(ctx context.Context, q history.QueryRun) (int64, error) {
	id, err := r.Store.StartQueryRun(ctx, q)
	if q.Query == r.slow && q.Status == history.QueryRunning {
		r.once.Do(func() { close(r.running) })
	}
	return id, err
}

// TestSchedulerShutdownDuringARun is SIGTERM in the middle of a real run:
// the query that is running is cancelled at the deadline, the one waiting
// never starts, both are recorded as cancelled by the shutdown, the run
// records its outcome, and no log line calls it an error.
// TestSchedulerCatchesUpARunEndedByAShutdown: a deploy during the 04:00
// run cancels its queries (CancelledByShutdown); the process that starts
// after it catches the tick up at once (its plan picks the queries still
// due), instead of leaving the day stale until the next tick.
func TestSchedulerCatchesUpARunEndedByAShutdown(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		// The bubble starts at 2000-01-01T00:00Z; the last tick,
		// 1999-12-31T04:00Z, made a run that a shutdown ended.
		s := openStore(t, dsn)
		tick := time.Date(1999, 12, 31, 4, 0, 0, 0, time.UTC)
		id, err := s.StartRun(t.Context(), history.Run{Trigger: runner.TriggerSchedule, Status: history.RunRunning, StartedAt: tick})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartQueryRun(t.Context(), history.QueryRun{RunID: id, Query: "q", Target: "q", Source: "main",
			Status: history.QueryFailed, Error: runner.CancelledByShutdown, StartedAt: tick, FinishedAt: tick.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRun(t.Context(), id, history.RunFailed, runner.CancelledByShutdown, tick.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()

		for range 2 { // the restart catches up once; a second restart finds it made
			r := newReplica(t, dsn, "0 4 * * *", time.Minute)
			r.sched.Start(context.Background())
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			r.stop(t)
		}
		s = openStore(t, dsn)
		got := runsByTrigger(t, s)
		_ = s.Close()
		if c := got[runner.TriggerCatchUp]; len(c) != 1 || !c[0].Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("catch-up runs %v, want one, at the restart", c)
		}
	})
}

func TestSchedulerShutdownDuringARun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(20, 5)
	// Four copies of ~1,000 rows cross-joined: it would run for hours.
	slow := `SELECT a.k, count(*) AS actors FROM events a, events b, events c, events d GROUP BY a.k`
	qs := buildQueries(t, map[string]string{"a_slow": query(slow), "b_waiting": query(perGroup)})
	rec := &signalRecorder{Store: e.store, slow: "a_slow", running: make(chan struct{})}
	log := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(log, nil))
	r := newRunnerOn(t, e, rec, logger)
	sched, err := runner.NewScheduler(runner.SchedulerConfig{ShutdownTimeout: 300 * time.Millisecond}, runner.SchedulerDeps{
		Runner: r, Store: e.store, Logger: logger,
		Plan: func(context.Context, []string, bool, time.Time) (runner.Options, error) {
			return runner.Options{Queries: qs}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sched.Start(context.Background()) // an empty history: the catch-up run starts now
	select {
	case <-rec.running:
	case <-time.After(time.Minute):
		t.Fatal("the slow query did not start")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sched.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("shutdown took %s", took)
	}
	runs, err := e.store.Runs(t.Context(), 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	run := runs[0]
	if run.Status != history.RunFailed || !strings.Contains(run.Error, runner.CancelledByShutdown) || run.FinishedAt.IsZero() {
		t.Errorf("run: %s %q finished %v", run.Status, run.Error, run.FinishedAt)
	}
	qrs, err := e.store.QueryRuns(t.Context(), run.ID)
	if err != nil || len(qrs) != 2 {
		t.Fatalf("query runs %+v, %v", qrs, err)
	}
	for _, q := range qrs {
		if q.Status != history.QueryFailed || q.Error != runner.CancelledByShutdown || q.FinishedAt.IsZero() {
			t.Errorf("query %s: %s %q", q.Query, q.Status, q.Error)
		}
	}
	if strings.Contains(log.String(), `"level":"ERROR"`) {
		t.Errorf("shutdown logged an error:\n%s", log)
	}
	if _, err := sched.Trigger(t.Context(), "api", nil); err == nil {
		t.Error("Trigger after Shutdown started a run")
	}
}

// newRunnerOn is a runner over e's source and warehouse recording to rec,
// one worker, logging to log.
func newRunnerOn(t *testing.T, e *env, rec runner.Recorder, log *slog.Logger) *runner.Runner {
	t.Helper()
	g, err := guard.New(guard.Config{Schema: testSchema()})
	if err != nil {
		t.Fatal(err)
	}
	// MaxCost: the shutdown test's query is a cartesian join meant to run
	// until it is cancelled, far above the default max_cost.
	r, err := runner.New(runner.Config{Sources: map[string]runner.Source{"main": {URL: e.sourceDSN, MaxCost: 1e18}}, Workers: 1},
		runner.Deps{Guard: g, Writer: e.wh, Recorder: rec, Approver: review.None{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// jumpClock is the wall clock of a synctest bubble, which jumps when told
// to (NTP stepping it, a machine resumed from suspend): the bubble's time
// plus an offset.
type jumpClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *jumpClock) jump(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// TestSchedulerClockJumps moves the wall clock under a running scheduler
// (UTC, no DST): forward over one tick and over several (one run catches
// them up, not one per missed tick), and back over a tick whose run is
// made (no second run of it). The scheduler notices a jump at its next
// Recheck (1m) without being woken.
func TestSchedulerClockJumps(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	for _, tc := range []struct {
		name string
		jump time.Duration // at 04:30:30 of the first day (the bubble starts at 2000-01-01T00:00Z)
		// runs after the jump, within 3 more hours of the bubble's time,
		// as trigger@started; the scheduler reads the clock every minute
		// (04:31 is its first look after the jump)
		want []string
	}{
		{"forward over one tick", 24 * time.Hour, []string{"schedule@2000-01-02T04:31:00Z"}},
		{"forward over three ticks", 3*24*time.Hour + 30*time.Minute, []string{"catch-up@2000-01-04T05:01:00Z"}},
		{"forward to before the next tick", 23 * time.Hour, []string{"schedule@2000-01-02T04:00:00Z"}},
		{"back over the tick", -2 * time.Hour, nil},
		{"back a day", -24 * time.Hour, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reset(t, dsn)
			synctest.Test(t, func(t *testing.T) {
				clock := &jumpClock{}
				store := openStore(t, dsn)
				log := &syncBuffer{}
				sched, err := runner.NewScheduler(runner.SchedulerConfig{Schedule: "0 4 * * *"}, runner.SchedulerDeps{
					Runner: &fakeRun{store: store, now: clock.Now}, Store: store, Plan: noPlan, Now: clock.Now,
					Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
				})
				if err != nil {
					t.Fatal(err)
				}
				sched.Start(context.Background())
				time.Sleep(4*time.Hour + 30*time.Minute + 30*time.Second) // the catch-up at 00:00 and the 04:00 tick
				synctest.Wait()
				before := runs(t, store)
				if want := "catch-up@2000-01-01T00:00:00Z schedule@2000-01-01T04:00:00Z"; strings.Join(before, " ") != want {
					t.Fatalf("runs before the jump: %v, want %s", before, want)
				}
				clock.jump(tc.jump)
				time.Sleep(3 * time.Hour)
				synctest.Wait()
				after := runs(t, store)[len(before):]
				if err := sched.Shutdown(context.Background()); err != nil {
					t.Error(err)
				}
				_ = store.Close()
				if strings.Join(after, " ") != strings.Join(tc.want, " ") {
					t.Errorf("runs after the jump: %v, want %v\n%s", after, tc.want, log)
				}
			})
		})
	}
}

// runs lists the runs of s, oldest first, as trigger@started.
func runs(t *testing.T, s *history.Store) []string {
	t.Helper()
	rs, err := s.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rs) - 1; i >= 0; i-- {
		out = append(out, rs[i].Trigger+"@"+rs[i].StartedAt.Format(time.RFC3339))
	}
	return out
}

// flakyStore is the history as the scheduler sees it, unreachable while
// down is set: every call fails the way a refused connection does.
type flakyStore struct {
	*history.Store
	mu   sync.Mutex
	down bool
}

var errUnreachable = errors.New("take run lock on 127.0.0.1:5432/metricgate: dial tcp 127.0.0.1:5432: connect: connection refused")

func (f *flakyStore) setDown(v bool) {
	f.mu.Lock()
	f.down = v
	f.mu.Unlock()
}

func (f *flakyStore) isDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *flakyStore) TryWatchedRunLock(ctx context.Context, watch time.Duration) (*history.RunLock, bool, error) {
	if f.isDown() {
		return nil, false, errUnreachable
	}
	return f.Store.TryWatchedRunLock(ctx, watch)
}

func (f *flakyStore) Runs(ctx context.Context, limit int) ([]history.Run, error) {
	if f.isDown() {
		return nil, errUnreachable
	}
	return f.Store.Runs(ctx, limit)
}

// TestSchedulerHistoryUnreachableAtTick: with the history database
// unreachable at 04:00 the tick starts no run and records nothing; the
// reason is logged at every attempt and shown by TickError; the attempts
// back off (1s, 2s, 4s, … at most MaxRetryBackoff); once the history is
// back, the next attempt makes the tick's run, once, and the error is
// gone.
func TestSchedulerHistoryUnreachableAtTick(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		store := &flakyStore{Store: openStore(t, dsn)}
		log := &syncBuffer{}
		sched, err := runner.NewScheduler(runner.SchedulerConfig{Schedule: "0 4 * * *", MaxRetryBackoff: time.Minute},
			runner.SchedulerDeps{Runner: &fakeRun{store: store.Store}, Store: store, Plan: noPlan,
				Logger: slog.New(slog.NewTextHandler(log, nil))})
		if err != nil {
			t.Fatal(err)
		}
		sched.Start(context.Background())
		time.Sleep(3 * time.Hour) // the catch-up at 00:00
		synctest.Wait()
		store.setDown(true)
		time.Sleep(time.Hour + 10*time.Minute) // 04:10: ten minutes without the history
		synctest.Wait()
		te, ok := sched.TickError()
		if !ok || !te.Tick.Equal(time.Date(2000, 1, 1, 4, 0, 0, 0, time.UTC)) || te.Error != errUnreachable.Error() ||
			te.Attempts < 8 || te.Attempts > 20 || !te.RetryAt.After(te.At) || te.RetryAt.Sub(te.At) > time.Minute {
			t.Errorf("TickError at 04:10 = %+v, %v; want the 04:00 tick, the refused connection, 8 to 20 attempts 1m apart at most", te, ok)
		}
		if n := strings.Count(log.String(), "the tick's run could not start; trying again"); n != te.Attempts {
			t.Errorf("%d log lines of the failed attempts, want %d", n, te.Attempts)
		}
		store.setDown(false)
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if _, ok := sched.TickError(); ok {
			t.Error("TickError still set after the run was made")
		}
		if err := sched.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		got := runs(t, store.Store)
		_ = store.Close()
		if len(got) != 2 || got[0] != "catch-up@2000-01-01T00:00:00Z" || !strings.HasPrefix(got[1], "schedule@2000-01-01T04:1") {
			t.Errorf("runs %v; want the catch-up and the 04:00 tick's, made once, after 04:10", got)
		}
	})
}

// TestSchedulerRerunsQueriesThatFailedForAPassingReason: the failed
// queries of a scheduled run that were retried after a transient error, or
// whose source could not be reached, run again in reruns (backing off,
// at most Reruns times); a query that failed at its first attempt does
// not.
func TestSchedulerRerunsQueriesThatFailedForAPassingReason(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		store := openStore(t, dsn)
		var mu sync.Mutex
		var planned [][]string
		plan := func(_ context.Context, names []string, _ bool, _ time.Time) (runner.Options, error) {
			mu.Lock()
			planned = append(planned, names)
			mu.Unlock()
			return runner.Options{}, nil
		}
		calls := 0
		fail := func(runner.Options) []history.QueryRun {
			calls++
			if calls > 3 { // the second rerun succeeds
				return nil
			}
			// The scheduler goes by Result.Transient (set by the runner), not
			// by error texts: the first is transient whatever its text, the
			// others are not, whatever theirs.
			return []history.QueryRun{
				{Query: "lost_connection", Source: "main", Status: history.QueryFailed, Attempts: 3, Error: "transient: conn closed"},
				{Query: "source_down", Source: "main", Status: history.QueryFailed, Attempts: 0, Error: "transient: source main: connect: connection refused"},
				{Query: "sql_error", Source: "main", Status: history.QueryFailed, Attempts: 1, Error: "division by zero"},
				{Query: "stale_source", Source: "main", Status: history.QueryFailed, Error: "source main: is 30h old"},
				{Query: "snapshot_gone", Source: "main", Status: history.QueryFailed, Attempts: 1,
					Error: `transient: attach to the run's snapshot: ERROR: invalid snapshot identifier: "00000004-0000006A-1" (SQLSTATE 22023)`},
				{Query: "retried_sql_error", Source: "main", Status: history.QueryFailed, Attempts: 2, Error: "attach to the run's snapshot: no"},
				{Query: "ok", Source: "main", Status: history.QuerySucceeded, Attempts: 1, Error: "transient: ignored"},
			}
		}
		log := &syncBuffer{}
		sched, err := runner.NewScheduler(runner.SchedulerConfig{Schedule: "0 4 * * *"}, runner.SchedulerDeps{
			Runner: &fakeRun{store: store, fail: fail}, Store: store, Plan: plan,
			Logger: slog.New(slog.NewTextHandler(log, nil))})
		if err != nil {
			t.Fatal(err)
		}
		sched.Start(context.Background())
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if err := sched.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		got := runs(t, store)
		_ = store.Close()
		// The catch-up at 00:00, reruns 1m and then 2m after it ended.
		want := "catch-up@2000-01-01T00:00:00Z rerun@2000-01-01T00:01:00Z rerun@2000-01-01T00:03:00Z rerun@2000-01-01T00:07:00Z"
		if strings.Join(got, " ") != want {
			t.Errorf("runs %v, want %s\n%s", got, want, log)
		}
		mu.Lock()
		defer mu.Unlock()
		for i, names := range planned[1:] {
			if strings.Join(names, ",") != "lost_connection,source_down,snapshot_gone" {
				t.Errorf("rerun %d planned %v, want lost_connection, source_down and snapshot_gone", i+1, names)
			}
		}
	})
}

// TestSchedulerMarksARunLeftRunningAsFailed: a replica killed in the
// middle of a run leaves it running in the history; whoever takes the
// run lock next marks it failed, abandoned, and makes its tick's run
// again.
func TestSchedulerMarksARunLeftRunningAsFailed(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		store := openStore(t, dsn)
		id, err := store.StartRun(t.Context(), history.Run{Trigger: runner.TriggerSchedule, Status: history.RunRunning,
			StartedAt: time.Date(1999, 12, 31, 4, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		r := newReplica(t, dsn, "0 4 * * *", time.Minute)
		r.sched.Start(context.Background())
		time.Sleep(time.Hour)
		synctest.Wait()
		r.stop(t)
		left, err := store.Run(t.Context(), id)
		catchUps := runsByTrigger(t, store)[runner.TriggerCatchUp]
		_ = store.Close()
		if err != nil {
			t.Fatal(err)
		}
		if left.Status != history.RunFailed || left.Error != runner.AbandonedReason || left.FinishedAt.IsZero() {
			t.Errorf("the run left running: %s %q finished %v; want failed, %q", left.Status, left.Error, left.FinishedAt, runner.AbandonedReason)
		}
		if !strings.Contains(r.log.String(), "marked runs left running by a stopped process as failed") {
			t.Errorf("no log line:\n%s", r.log)
		}
		// It was the last tick's run: the tick's run is made again.
		if len(catchUps) != 1 {
			t.Errorf("catch-up runs %v; want one, redoing the abandoned run's tick", catchUps)
		}
	})
}

// TestSchedulerTickDuringAnAPIRunIsNotLost: a run asked for through the
// API is in progress at 04:00; the tick's run waits for it to end and is
// made then, instead of being skipped for the day (as it was when the
// scheduler dropped a tick that found this replica busy).
func TestSchedulerTickDuringAnAPIRunIsNotLost(t *testing.T) {
	t.Parallel()
	dsn := pgtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		r := newReplica(t, dsn, "0 4 * * *", 10*time.Minute)
		r.sched.Start(context.Background()) // the catch-up at 00:00, 10 minutes long
		time.Sleep(3*time.Hour + 59*time.Minute)
		if _, err := r.sched.Trigger(t.Context(), "api", []string{"one"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		got := runs(t, r.store)
		r.stop(t)
		// The API run ends at 04:09; the tick's attempts back off 1s, 2s, …
		if len(got) != 3 || got[1] != "api@2000-01-01T03:59:00Z" || !strings.HasPrefix(got[2], "schedule@2000-01-01T04:1") {
			t.Errorf("runs %v; want the catch-up, the API run, then the 04:00 tick's run between 04:10 and 04:20\n%s", got, r.log)
		}
	})
}

// TestTriggerDuringARunSaysNotStarted: a run asked for while this replica
// makes one is refused (ErrRunInProgress, a 409 for POST /api/v1/runs),
// and the log says it was not started, not that it was deferred.
func TestTriggerDuringARunSaysNotStarted(t *testing.T) {
	t.Parallel()
	r := newReplica(t, pgtest.New(t), "@every 1h", 2*time.Second)
	r.sched.Start(context.Background())
	t.Cleanup(func() { _ = r.sched.Shutdown(context.Background()) })
	if _, err := r.sched.Trigger(t.Context(), "manual", nil); err != nil && !errors.Is(err, runner.ErrRunInProgress) {
		t.Fatal(err)
	}
	_, err := r.sched.Trigger(t.Context(), "manual", nil)
	if !errors.Is(err, runner.ErrRunInProgress) {
		t.Fatalf("a second trigger during a run: %v, want ErrRunInProgress", err)
	}
	if logs := r.log.String(); !strings.Contains(logs, "run not started: this replica is making a run already") || strings.Contains(logs, "run deferred") {
		t.Errorf("the log does not say the asked-for run was not started:\n%s", logs)
	}
}
