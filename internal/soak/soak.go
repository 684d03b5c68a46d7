package soak

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/queries"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schedule"
	"gitlab.com/metricgate/metricgate/schema"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// Options configure a soak. Zero values mean the defaults.
type Options struct {
	// Days to simulate. Default 30.
	Days int
	// Seed of the fault RNG. Default 1.
	Seed uint64
	// FaultRate is the share of days with a fault. Default 0.5.
	FaultRate float64
	// Dir holds the clusters and the warehouse. Default: a temporary
	// directory, removed at the end.
	Dir string
	// Log receives metricgate's logs (JSON). Default: none.
	Log io.Writer
	// Progress receives a line per day. Default: none.
	Progress io.Writer
	// Faults, when set, are the days' faults in turn (FaultNone, …)
	// instead of the RNG's draw.
	Faults []string
	// Schema is the reviewed schema catalog the guard resolves the example
	// queries against (the repository's schema.yml). Required.
	Schema *schema.Catalog
	// DumpConfig, when set, is a dump.yml: every 4 fake hours the soak
	// dumps the public projects (full once a day, increments between:
	// dump.Config.FullEvery) and loads the dump into the warehouse, and
	// reports the loaded data's age against DumpSLO.
	DumpConfig []byte
	// DumpSLO is the freshness the dump's data should keep. Default 6h.
	DumpSLO time.Duration
	// Increment, when set, is called every 4 fake hours with the fake
	// time, after the dump when DumpConfig is set: a hook for more.
	Increment func(ctx context.Context, now time.Time) error
}

// Faults the soak injects.
const (
	FaultNone          = "none"
	FaultSourceRestart = "source restart"
	FaultTerminate     = "connection terminated"
	FaultHistoryDown   = "history unreachable"
	FaultKill          = "process killed"
)

var faults = []string{FaultSourceRestart, FaultTerminate, FaultHistoryDown, FaultKill}

// Sample is the process's footprint at the end of a day.
type Sample struct {
	Day        int
	HeapMiB    float64
	RSSMiB     float64
	Goroutines int
}

// Report is what a soak found.
type Report struct {
	Days int
	// RunsMade counts the days whose every query loaded that day's data;
	// RunsExpected is Days.
	RunsMade, RunsExpected int
	// Runs is the number of runs in the history (ticks, catch-ups, reruns).
	Runs int
	// Faults counts the days of each fault; Missed the faults that found
	// nothing to hit (the run was over before it could be injected).
	Faults map[string]int
	Missed int
	// StatusSamples is how many times the status was read;
	// StaleSamples the reads that said stale, FailingAfterRecovery the
	// reads after 07:00 that said failing.
	StatusSamples, StaleSamples, FailingAfterRecovery int
	// MaxAge is the oldest a daily query's data got at a status read.
	MaxAge time.Duration
	// Duplicates and Losses are warehouse rows too many and missing,
	// summed over the days' checks; Canaries the canary markers found in
	// the warehouse.
	Duplicates, Losses, Canaries int
	// Problems describe each violation, duplicate, loss or canary (the
	// first 20).
	Problems []string
	Samples  []Sample
	// Dumps and DumpLoads count the dumps made (Full of them full) and
	// the loads that succeeded; DumpFailures the dumps or loads that
	// failed (the history down at 04:00, …).
	Dumps, Full, DumpLoads, DumpFailures int
	// DumpMaxAge is the oldest the warehouse's dump data got at a status
	// read; DumpOverSLO counts the reads above DumpSLO.
	DumpMaxAge  time.Duration
	DumpOverSLO int
	DumpSLO     time.Duration
	// QueryAttainment, DumpAttainment and LoadAttainment are the SLO
	// attainment the status API gave at its last read, over the whole soak
	// (its window is 30 days): the lowest of the queries', of the groups'
	// dumps' (against DumpSLO) and the loads'; -1 when it gave none.
	QueryAttainment, DumpAttainment, LoadAttainment float64
	// Increments is how many times Options.Increment was called.
	Increments int
	Duration   time.Duration
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "soak: %d days in %s\n", r.Days, r.Duration.Round(time.Second))
	fmt.Fprintf(w, "runs made:            %d/%d days (%d runs in the history: ticks, catch-ups, reruns)\n", r.RunsMade, r.RunsExpected, r.Runs)
	var fs []string
	for _, f := range append([]string{FaultNone}, faults...) {
		fs = append(fs, fmt.Sprintf("%s %d", f, r.Faults[f]))
	}
	fmt.Fprintf(w, "faults:               %s (%d found nothing to hit)\n", strings.Join(fs, ", "), r.Missed)
	fmt.Fprintf(w, "freshness violations: %d stale and %d failing after recovery, of %d status reads (oldest daily data seen: %s)\n",
		r.StaleSamples, r.FailingAfterRecovery, r.StatusSamples, r.MaxAge.Round(time.Minute))
	fmt.Fprintf(w, "SLO attainment:       queries %s, dumps %s, loads %s (the status API's, over the soak)\n",
		percent(r.QueryAttainment), percent(r.DumpAttainment), percent(r.LoadAttainment))
	fmt.Fprintf(w, "duplicates:           %d\n", r.Duplicates)
	fmt.Fprintf(w, "losses:               %d\n", r.Losses)
	fmt.Fprintf(w, "canaries found:       %d\n", r.Canaries)
	if r.Dumps+r.DumpFailures == 0 {
		fmt.Fprintf(w, "dumps:                none (Options.DumpConfig not set)\n")
	} else {
		fmt.Fprintf(w, "dumps:                %d every 4h (%d full, %d increments), %d loads, %d failed; loaded data at most %s old, %d of %d status reads over the %s SLO\n",
			r.Dumps, r.Full, r.Dumps-r.Full, r.DumpLoads, r.DumpFailures, r.DumpMaxAge.Round(time.Minute), r.DumpOverSLO,
			r.StatusSamples, r.DumpSLO)
	}
	if r.Increments > 0 {
		fmt.Fprintf(w, "increment hook:       %d calls\n", r.Increments)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "day\theap MiB\tRSS MiB\tgoroutines\t")
	for _, s := range r.Samples {
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%d\t\n", s.Day, s.HeapMiB, s.RSSMiB, s.Goroutines)
	}
	_ = tw.Flush()
}

// percent prints an attainment, "none" when there is none.
func percent(v float64) string {
	if v < 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}

// Growth reports whether the footprint grows: the goroutines of the last
// third of the days above the first third's most (after two days of
// warm-up) by more than 3, or the mean heap by more than 25% + 8 MiB, or
// the mean RSS by more than 25% + 32 MiB. It needs at least 9 days.
func (r *Report) Growth() error {
	s := r.Samples
	if len(s) < 9 {
		return nil
	}
	s = s[2:]
	third := len(s) / 3
	first, last := s[:third], s[len(s)-third:]
	mean := func(xs []Sample, f func(Sample) float64) float64 {
		var t float64
		for _, x := range xs {
			t += f(x)
		}
		return t / float64(len(xs))
	}
	most := func(xs []Sample) int {
		m := 0
		for _, x := range xs {
			m = max(m, x.Goroutines)
		}
		return m
	}
	var errs []error
	if a, b := most(first), most(last); b > a+3 {
		errs = append(errs, fmt.Errorf("goroutines grow: at most %d in the first third, %d in the last", a, b))
	}
	heap := func(x Sample) float64 { return x.HeapMiB }
	if a, b := mean(first, heap), mean(last, heap); b > a*1.25+8 {
		errs = append(errs, fmt.Errorf("heap grows: %.1f MiB on average in the first third, %.1f in the last", a, b))
	}
	rss := func(x Sample) float64 { return x.RSSMiB }
	if a, b := mean(first, rss), mean(last, rss); b > a*1.25+32 {
		errs = append(errs, fmt.Errorf("RSS grows: %.1f MiB on average in the first third, %.1f in the last", a, b))
	}
	return errors.Join(errs...)
}

// clock is the fake wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// start is the first simulated day: gitlabfake's data ends there.
var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const tick = 4 * time.Hour // the schedule: 0 4 * * *

// world is the soak's state.
type world struct {
	opts    Options
	rng     *rand.Rand
	clock   *clock
	log     *slog.Logger
	src     *pgtest.Cluster
	srcDSN  string
	srcConn *pgx.Conn
	hist    *pgtest.Cluster
	histDir string
	histDSN string
	whPath  string
	cat     *catalog.Catalog
	guard   *guard.Guard
	proc    *process
	report  *Report
	// expect holds, per table, the rows (query columns, then the
	// snapshot date) of every day loaded, by day.
	expect map[string]map[time.Time][][]any
	// loadedAt is when each query's newest load started.
	loadedAt map[string]time.Time
	dumpDef  *dump.Definition
	bucket   *blob.Bucket
}

// Run runs a soak and returns its report. An error means the soak could
// not be made (a cluster did not start); what it found is in the report.
func Run(ctx context.Context, opts Options) (_ *Report, err error) {
	opts.Days = cmp.Or(opts.Days, 30)
	opts.Seed = cmp.Or(opts.Seed, 1)
	opts.FaultRate = cmp.Or(opts.FaultRate, 0.5)
	opts.DumpSLO = cmp.Or(opts.DumpSLO, 6*time.Hour)
	began := time.Now()
	w := &world{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x50a4)), clock: &clock{t: start},
		report: &Report{Days: opts.Days, RunsExpected: opts.Days, Faults: map[string]int{}, DumpSLO: opts.DumpSLO,
			QueryAttainment: -1, DumpAttainment: -1, LoadAttainment: -1},
		expect: map[string]map[time.Time][][]any{}, loadedAt: map[string]time.Time{}}
	out := cmp.Or[io.Writer](opts.Log, io.Discard)
	w.log = slog.New(slog.NewJSONHandler(out, nil))
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "metricgate-soak-"); err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(dir) }()
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user must reach the clusters
		return nil, err
	}
	defer w.close()
	if err := w.setUp(ctx, dir); err != nil {
		return nil, err
	}
	for day := range opts.Days {
		if err := w.day(ctx, day); err != nil {
			return w.report, fmt.Errorf("day %d: %w", day, err)
		}
	}
	w.report.Duration = time.Since(began)
	return w.report, nil
}

func (w *world) progress(format string, args ...any) {
	if w.opts.Progress != nil {
		fmt.Fprintf(w.opts.Progress, format+"\n", args...)
	}
}

func (w *world) problem(format string, args ...any) {
	if len(w.report.Problems) < 20 {
		w.report.Problems = append(w.report.Problems, fmt.Sprintf(format, args...))
	}
}

func (w *world) setUp(ctx context.Context, dir string) (err error) {
	if w.src, err = pgtest.Start(ctx, pgtest.Options{Dir: filepath.Join(dir, "source")}); err != nil {
		return err
	}
	if err := w.src.CreateDatabase(ctx, "gitlab"); err != nil {
		return err
	}
	w.srcDSN = w.src.DSN("gitlab")
	if w.srcConn, err = pgx.Connect(ctx, w.srcDSN); err != nil {
		return err
	}
	if _, err := gitlabfake.Load(ctx, w.srcConn, gitlabfake.Options{}); err != nil {
		return err
	}
	if _, err := w.srcConn.Exec(ctx, "CREATE TABLE soak_clock (ts timestamptz NOT NULL)"); err != nil {
		return err
	}
	w.histDir = filepath.Join(dir, "history")
	if w.hist, err = pgtest.Start(ctx, pgtest.Options{Dir: w.histDir}); err != nil {
		return err
	}
	if err := w.hist.CreateDatabase(ctx, "metricgate"); err != nil {
		return err
	}
	w.histDSN = w.hist.DSN("metricgate")
	store, err := history.Open(ctx, w.histDSN)
	if err != nil {
		return err
	}
	err = store.Migrate(ctx)
	_ = store.Close()
	if err != nil {
		return err
	}
	w.whPath = filepath.Join(dir, "warehouse.duckdb")
	if w.cat, err = catalog.Load(queries.FS, catalog.Config{}); err != nil {
		return fmt.Errorf("the example queries: %w", err)
	}
	if w.guard, err = guard.New(guard.Config{Schema: w.opts.Schema}); err != nil {
		return err
	}
	if w.opts.DumpConfig != nil {
		if w.dumpDef, err = dump.Parse("dump.yml", w.opts.DumpConfig, nil); err != nil {
			return err
		}
		if w.bucket, err = dump.OpenBucket(ctx, "file://"+filepath.Join(dir, "dumps")+"?create_dir=true"); err != nil {
			return err
		}
	}
	return nil // the process starts on the first day, once the source says which day it is
}

func (w *world) close() {
	ctx := context.Background()
	if w.proc != nil {
		w.proc.stop()
	}
	if w.srcConn != nil {
		_ = w.srcConn.Close(ctx)
	}
	if w.bucket != nil {
		_ = w.bucket.Close()
	}
	for _, c := range []*pgtest.Cluster{w.src, w.hist} {
		if c != nil {
			_ = c.Stop(ctx)
		}
	}
}

// process is one metricgate serve: its history sessions, its warehouse
// writer, its runner, scheduler and API.
type process struct {
	store  *history.Store
	rec    *killable
	wh     *duckdb.Writer
	sched  *runner.Scheduler
	api    *api.API
	cancel context.CancelFunc
}

func (w *world) startProcess(ctx context.Context) error {
	store, err := history.Open(ctx, w.histDSN)
	if err != nil {
		return err
	}
	p := &process{store: store, rec: &killable{Store: store}}
	if p.wh, err = duckdb.Open(ctx, w.whPath); err != nil {
		_ = store.Close()
		return err
	}
	r, err := runner.New(runner.Config{
		Sources: map[string]runner.Source{"main": {URL: w.srcDSN, AsOf: "(SELECT max(ts) FROM soak_clock)"}},
		Backoff: 100 * time.Millisecond,
	}, runner.Deps{Guard: w.guard, Writer: p.wh, Recorder: p.rec, Approver: review.None{}, Logger: w.log, Now: w.clock.Now})
	if err != nil {
		p.stop()
		return err
	}
	// The plan is serve's: the named queries, all, or the due ones by
	// the one rule of "due" (schedule.DueQueries).
	plan := func(ctx context.Context, names []string, all bool, now time.Time) (runner.Options, error) {
		var opts runner.Options
		var err error
		switch {
		case len(names) > 0:
			for _, q := range w.cat.Queries {
				if slices.Contains(names, q.Name) {
					opts.Queries = append(opts.Queries, q)
				}
			}
		case all:
			opts.Queries = w.cat.Queries
		default:
			opts.Queries, err = schedule.DueQueries(ctx, p.rec, w.cat.Queries, now)
		}
		return opts, err
	}
	p.sched, err = runner.NewScheduler(runner.SchedulerConfig{
		Schedule: "0 4 * * *", Recheck: 2 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		RetryBackoff: time.Minute, MaxRetryBackoff: 10 * time.Minute, RerunBackoff: 5 * time.Minute,
	}, runner.SchedulerDeps{Runner: r, Store: p.rec, Plan: plan, Logger: w.log, Now: w.clock.Now})
	if err != nil {
		p.stop()
		return err
	}
	cat := w.cat
	// Freshness is the data's age: the source's as-of time is the day's
	// 00:00 and the run reads it at 04:00, so the data is 28h old when the
	// next day's run replaces it; the grace covers those 4h of source lag
	// and the run's own time.
	if p.api, err = api.New(api.Config{AllowUnauthenticatedRuns: true, CacheTTL: -1, FreshnessGrace: 6 * time.Hour, DumpFreshnessSLO: w.report.DumpSLO}, api.Deps{
		History: store, Runs: p.sched, Catalog: func() *catalog.Catalog { return cat }, Logger: w.log, Now: w.clock.Now,
	}); err != nil {
		p.stop()
		return err
	}
	var runCtx context.Context
	runCtx, p.cancel = context.WithCancel(context.Background())
	p.sched.Start(runCtx)
	w.proc = p
	return nil
}

// stop ends a process: Shutdown, then its stores.
func (p *process) stop() {
	if p.sched != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = p.sched.Shutdown(ctx)
		cancel()
	}
	if p.cancel != nil {
		p.cancel()
	}
	if p.wh != nil {
		_ = p.wh.Close()
	}
	_ = p.store.Close()
}

// kill ends a process as SIGKILL would: its history writes stop at once
// and its run lock is released (its sessions die), its runs are cancelled
// mid-flight (what they wrote to the warehouse is whatever a kill leaves).
func (p *process) kill() {
	p.rec.kill()
	p.cancel()
	p.stop()
}

// killable is a process's view of the history: after kill, every call
// fails, as nothing of a dead process reaches the database.
type killable struct {
	*history.Store
	dead  atomic.Bool
	mu    sync.Mutex
	locks []func()
}

var errKilled = errors.New("the process was killed")

func (k *killable) kill() {
	k.dead.Store(true)
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, release := range k.locks {
		release()
	}
}

func (k *killable) TryWatchedRunLock(ctx context.Context, watch time.Duration) (*history.RunLock, bool, error) {
	if k.dead.Load() {
		return nil, false, errKilled
	}
	lock, ok, err := k.Store.TryWatchedRunLock(ctx, watch)
	if ok {
		k.mu.Lock()
		k.locks = append(k.locks, lock.Release)
		k.mu.Unlock()
	}
	return lock, ok, err
}

func (k *killable) Runs(ctx context.Context, limit int) ([]history.Run, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.Store.Runs(ctx, limit)
}

func (k *killable) AbandonRunning(ctx context.Context, reason string) (int64, error) {
	if k.dead.Load() {
		return 0, errKilled
	}
	return k.Store.AbandonRunning(ctx, reason)
}

func (k *killable) StartRun(ctx context.Context, r history.Run) (int64, error) {
	if k.dead.Load() {
		return 0, errKilled
	}
	return k.Store.StartRun(ctx, r)
}

func (k *killable) FinishRun(ctx context.Context, id int64, status history.RunStatus, errText string, at time.Time) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.Store.FinishRun(ctx, id, status, errText, at)
}

func (k *killable) StartQueryRun(ctx context.Context, q history.QueryRun) (int64, error) {
	if k.dead.Load() {
		return 0, errKilled
	}
	return k.Store.StartQueryRun(ctx, q)
}

func (k *killable) FinishQueryRun(ctx context.Context, q history.QueryRun) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.Store.FinishQueryRun(ctx, q)
}

func (k *killable) LastSuccess(ctx context.Context, query string) (history.QueryRun, error) {
	if k.dead.Load() {
		return history.QueryRun{}, errKilled
	}
	return k.Store.LastSuccess(ctx, query)
}

func (k *killable) QueryHistory(ctx context.Context, query string, limit int) ([]history.QueryRun, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.Store.QueryHistory(ctx, query, limit)
}

func (k *killable) LastSuccessPerSource(ctx context.Context, query string) ([]history.QueryRun, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.Store.LastSuccessPerSource(ctx, query)
}

// changeSource is a day of activity on the source: issues closed, notes
// deleted, events and pipelines added (copies of older ones, created on
// the day), and the source's as-of time set to the day.
func (w *world) changeSource(ctx context.Context, day int, at time.Time) error {
	ts := "'" + at.Format(time.RFC3339) + "'"
	stmts := []string{
		fmt.Sprintf("UPDATE issues SET state_id = 2, closed_at = %s, updated_at = %[1]s WHERE state_id = 1 AND id %% 23 = %d", ts, day%23),
		fmt.Sprintf("DELETE FROM notes WHERE id %% 101 = %d", day%101),
		fmt.Sprintf("UPDATE merge_requests SET title = title || ' (edited)', updated_at = %s WHERE id %% 53 = %d", ts, day%53),
	}
	for _, table := range []string{"events", "ci_pipelines"} {
		cols, err := columnsBut(ctx, w.srcConn, table, "id")
		if err != nil {
			return err
		}
		sel := slices.Clone(cols)
		for i, c := range sel {
			if c == "created_at" || c == "updated_at" {
				sel[i] = ts
			}
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE id %% 97 = %d",
			table, strings.Join(cols, ", "), strings.Join(sel, ", "), table, day%97))
	}
	stmts = append(stmts, "DELETE FROM soak_clock", fmt.Sprintf("INSERT INTO soak_clock VALUES ('%s')", at.Format(time.RFC3339)))
	for _, s := range stmts {
		if _, err := w.srcConn.Exec(ctx, s); err != nil {
			return fmt.Errorf("change the source: %s: %w", s, err)
		}
	}
	return nil
}

// columnsBut lists table's columns but skip, quoted, in order.
func columnsBut(ctx context.Context, conn *pgx.Conn, table, skip string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = $1 AND column_name <> $2 ORDER BY ordinal_position`, table, skip)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// day simulates one day.
func (w *world) day(ctx context.Context, day int) error {
	d := start.AddDate(0, 0, day)
	w.clock.set(d)
	if err := w.changeSource(ctx, day, d); err != nil {
		return err
	}
	if w.proc == nil { // the first start: an empty history, a catch-up run now
		if err := w.startProcess(ctx); err != nil {
			return err
		}
	}
	fault := FaultNone
	if w.rng.Float64() < w.opts.FaultRate {
		fault = faults[w.rng.IntN(len(faults))]
	}
	if len(w.opts.Faults) > 0 {
		fault = w.opts.Faults[day%len(w.opts.Faults)]
	}
	w.report.Faults[fault]++
	// Before the tick: the night's status reads and increments.
	for h := time.Duration(0); h < tick; h += 2 * time.Hour {
		w.clock.set(d.Add(h))
		w.increment(ctx, d.Add(h))
		w.readStatus(ctx, d.Add(h), false)
	}
	if fault == FaultHistoryDown {
		if err := w.hist.Stop(ctx); err != nil {
			return err
		}
	}
	injected := fault == FaultNone || fault == FaultHistoryDown
	for m := tick - time.Minute; m < 7*time.Hour; m += time.Minute {
		w.clock.set(d.Add(m))
		w.proc.sched.Wake()
		time.Sleep(3 * time.Millisecond) // the scheduler looks at the clock every 2ms
		if fault == FaultHistoryDown && m == tick+30*time.Minute {
			c, err := pgtest.Start(ctx, pgtest.Options{Dir: w.histDir, Port: w.hist.Port()})
			if err != nil {
				return err
			}
			w.hist = c
		}
		for w.proc.sched.Running() != 0 { // a run takes the time it takes; the clock waits
			if !injected {
				var err error
				if injected, err = w.inject(ctx, fault); err != nil {
					return err
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		if m == tick+5*time.Minute { // the 04:00 dump, once the tick's run is over (and its fault injected)
			w.increment(ctx, d.Add(tick))
		}
	}
	if !injected {
		w.report.Missed++
	}
	made, err := w.check(ctx, d)
	if err != nil {
		return err
	}
	for h := 8 * time.Hour; h < 24*time.Hour; h += 2 * time.Hour {
		w.clock.set(d.Add(h))
		w.increment(ctx, d.Add(h))
		w.readStatus(ctx, d.Add(h), true)
	}
	w.sample(day)
	w.progress("day %2d (%s): fault %-22s made %v", day+1, d.Format("2006-01-02"), fault, made)
	return nil
}

// inject hits the run in progress with fault; false when there was
// nothing to hit yet.
func (w *world) inject(ctx context.Context, fault string) (bool, error) {
	switch fault {
	case FaultSourceRestart:
		if err := w.src.Restart(ctx); err != nil {
			return true, err
		}
		_ = w.srcConn.Close(ctx) // the restart ended its session
		var err error
		w.srcConn, err = pgx.Connect(ctx, w.srcDSN)
		return true, err
	case FaultTerminate:
		var n int
		err := w.srcConn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name LIKE 'metricgate run % worker %' AND state = 'active' AND datname = current_database()`).Scan(&n)
		return n > 0, err
	case FaultKill:
		w.proc.kill()
		return true, w.startProcess(ctx)
	}
	return true, nil
}

// increment is what happens every 4 fake hours: the source is as of then,
// a dump and its load (DumpConfig), the hook.
func (w *world) increment(ctx context.Context, at time.Time) {
	if at.Sub(at.Truncate(24*time.Hour))%(4*time.Hour) != 0 {
		return
	}
	if _, err := w.srcConn.Exec(ctx, "UPDATE soak_clock SET ts = $1", at); err != nil {
		w.problem("%s: set the source's time: %v", at.Format(time.RFC3339), err)
	}
	if w.dumpDef != nil {
		w.dump(ctx, at)
	}
	if w.opts.Increment != nil {
		w.report.Increments++
		if err := w.opts.Increment(ctx, at); err != nil {
			w.problem("%s: increment: %v", at.Format(time.RFC3339), err)
		}
	}
}

// onClock records dumps and loads with the fake clock's times (the dump
// package reads the real clock), so that the status API, which reads the
// fake one, sees them happen when the soak makes them.
type onClock struct {
	*history.Store
	clock *clock
}

func (o onClock) times(started, finished time.Time) (time.Time, time.Time) {
	now := o.clock.Now()
	if !finished.IsZero() {
		finished = now
	}
	return now, finished
}

func (o onClock) StartDump(ctx context.Context, d history.Dump) (int64, error) {
	d.StartedAt, d.FinishedAt = o.times(d.StartedAt, d.FinishedAt)
	return o.Store.StartDump(ctx, d)
}

func (o onClock) FinishDump(ctx context.Context, d history.Dump) error {
	d.StartedAt, d.FinishedAt = o.times(d.StartedAt, d.FinishedAt)
	return o.Store.FinishDump(ctx, d)
}

func (o onClock) StartDumpLoad(ctx context.Context, l history.DumpLoad) (int64, error) {
	l.StartedAt, l.FinishedAt = o.times(l.StartedAt, l.FinishedAt)
	return o.Store.StartDumpLoad(ctx, l)
}

func (o onClock) FinishDumpLoad(ctx context.Context, l history.DumpLoad) error {
	l.StartedAt, l.FinishedAt = o.times(l.StartedAt, l.FinishedAt)
	return o.Store.FinishDumpLoad(ctx, l)
}

// dump dumps the public projects (full or an increment, as the exporter
// decides) and loads the newest dump into the warehouse.
func (w *world) dump(ctx context.Context, at time.Time) {
	// The exporter measures the full dump's age snapshot to snapshot (on
	// the source's as-of time, the fake clock), so a full dump comes every
	// 24 fake hours.
	x, err := dump.New(dump.Config{SourceURL: w.srcDSN, AsOf: "(SELECT max(ts) FROM soak_clock)", FullEvery: 24 * time.Hour,
		PseudonymKey: []byte("soak-pseudonym-key-0123456789abcdef")},
		dump.Deps{Bucket: w.bucket, Recorder: onClock{w.proc.store, w.clock}, Logger: w.log})
	if err == nil {
		var m *dump.Manifest
		if m, err = x.Dump(ctx, w.dumpDef); err == nil {
			w.report.Dumps++
			if m.Kind == dump.KindFull {
				w.report.Full++
			}
		}
	}
	if err == nil {
		var res *dump.LoadResult
		res, err = dump.NewLoader(dump.LoadConfig{}, w.bucket, w.proc.wh, onClock{w.proc.store, w.clock}, w.log).Load(ctx)
		if err == nil && res.Status == history.DumpSucceeded {
			w.report.DumpLoads++
		}
	}
	if err != nil {
		w.report.DumpFailures++
		w.problem("%s: dump: %v", at.Format(time.RFC3339), err)
	}
}

// readStatus reads GET /api/v1/status at now: stale is a violation, and
// failing after the recovery.
func (w *world) readStatus(ctx context.Context, now time.Time, afterRecovery bool) {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/status", nil)
	rec := httptest.NewRecorder()
	w.proc.api.ServeHTTP(rec, req)
	var st api.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.State == "" {
		w.problem("%s: status %d: %s", now.Format(time.RFC3339), rec.Code, rec.Body.String())
		return
	}
	w.report.StatusSamples++
	lowest := func(v *float64, seen *bool, into *float64) {
		if v == nil {
			return
		}
		if !*seen || *v < *into {
			*into = *v
		}
		*seen = true
	}
	var q, d, l bool
	for _, qs := range st.Queries {
		lowest(qs.SLOAttainment, &q, &w.report.QueryAttainment)
	}
	for _, ds := range st.Dumps {
		if ds.Kind == "load" {
			lowest(ds.SLOAttainment, &l, &w.report.LoadAttainment)
		} else {
			lowest(ds.SLOAttainment, &d, &w.report.DumpAttainment)
		}
	}
	for _, q := range st.Queries {
		if q.Schedule == "daily" { // weekly ones may be a week old
			w.report.MaxAge = max(w.report.MaxAge, time.Duration(q.AgeSeconds*float64(time.Second)))
		}
	}
	for _, ds := range st.Dumps {
		if ds.Kind == "load" && ds.DataAsOf != nil {
			age := time.Duration(ds.AgeSeconds * float64(time.Second))
			w.report.DumpMaxAge = max(w.report.DumpMaxAge, age)
			if age > w.report.DumpSLO {
				w.report.DumpOverSLO++
			}
		}
	}
	if st.Stale {
		w.report.StaleSamples++
		w.problem("%s: stale: %s", now.Format(time.RFC3339), strings.Join(st.Problems, "; "))
	}
	if st.Failing && afterRecovery {
		w.report.FailingAfterRecovery++
		w.problem("%s: failing after recovery: %s", now.Format(time.RFC3339), strings.Join(st.Problems, "; "))
	}
}

// check compares every table with what the source says, and counts the
// day as made when every query loaded the day's data.
func (w *world) check(ctx context.Context, d time.Time) (bool, error) {
	runs, err := w.proc.store.Runs(ctx, 0)
	if err != nil {
		return false, err
	}
	w.report.Runs = len(runs)
	made := true
	for _, q := range w.cat.Queries {
		// Loaded after the day's change of the source: the first day's
		// catch-up at 00:00, else the tick's run, its rerun or catch-up.
		last, err := w.proc.store.LastSuccess(ctx, q.Name)
		loaded := err == nil && !last.StartedAt.Before(d)
		if err != nil && !errors.Is(err, history.ErrNotFound) {
			return false, err
		}
		// Due at the tick: never loaded, or its schedule (weekly ones on
		// Mondays) says so since its last load.
		due := schedule.Due(q.Schedule, w.loadedAt[q.Name], d.Add(tick))
		switch {
		case due && !loaded:
			made = false
			w.problem("%s: query %s did not load the day's data", d.Format("2006-01-02"), q.Name)
		case !due && loaded:
			w.problem("%s: query %s loaded though not due", d.Format("2006-01-02"), q.Name)
		}
		if loaded {
			w.loadedAt[q.Name] = last.StartedAt
			rows, err := w.expected(ctx, q, d)
			if err != nil {
				return false, err
			}
			if q.Load == catalog.LoadReplace || w.expect[q.Target] == nil {
				w.expect[q.Target] = map[time.Time][][]any{}
			}
			w.expect[q.Target][d] = rows
		}
		if err := w.compare(ctx, q, d); err != nil {
			return false, err
		}
	}
	if made {
		w.report.RunsMade++
	}
	return made, nil
}

// expected runs the guard's rewrite of q on the source and keeps the rows
// the entity filter keeps (at least min_group_size people), with d as the
// snapshot date: what the runner must have loaded.
func (w *world) expected(ctx context.Context, q *catalog.Query, d time.Time) ([][]any, error) {
	an, vs := w.guard.CheckQuery(q)
	if len(vs) > 0 {
		return nil, fmt.Errorf("query %s: %v", q.Name, vs[0])
	}
	rows, err := w.srcConn.Query(ctx, an.SQL(q.MinGroupSize))
	if err != nil {
		return nil, fmt.Errorf("query %s on the source: %w", q.Name, err)
	}
	defer rows.Close()
	filter := &guard.EntityFilter{Min: int64(max(q.MinGroupSize, 10))}
	visible := len(an.Columns)
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		keep, err := filter.Keep(vals[visible:])
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		vals = vals[:visible]
		for i, v := range vals {
			vals[i] = normalize(v)
		}
		out = append(out, append(vals, d))
	}
	return out, rows.Err()
}

// normalize turns pgx's values into the Go types warehouse tables read
// back with (warehousetest compares numbers by value).
func normalize(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		if !x.Valid {
			return nil
		}
		f, err := x.Float64Value()
		if err != nil {
			return v
		}
		return f.Float64
	}
	return v
}

var diffCounts = regexp.MustCompile(`(\d+) wanted rows not found, (\d+) unexpected rows`)

// compare reads q's table and counts its losses and duplicates against
// every day expected so far; it scans it for canaries too.
func (w *world) compare(ctx context.Context, q *catalog.Query, d time.Time) error {
	got, err := w.proc.wh.Read(ctx, q.Target)
	if err != nil {
		if len(w.expect[q.Target]) == 0 {
			return nil
		}
		return fmt.Errorf("read %s: %w", q.Target, err)
	}
	for _, r := range got.Rows {
		for _, v := range r {
			if s, ok := v.(string); ok && strings.Contains(s, gitlabfake.CanaryPrefix) {
				w.report.Canaries++
				w.problem("%s: a canary in %s: %s", d.Format("2006-01-02"), q.Target, s)
			}
		}
	}
	proj := warehousetest.Project(got, append(warehousetest.QueryColumns(got), "_snapshot_date")...)
	want := &warehouse.Table{Columns: proj.Columns}
	days := slices.SortedFunc(func(yield func(time.Time) bool) {
		for k := range w.expect[q.Target] {
			if !yield(k) {
				return
			}
		}
	}, func(a, b time.Time) int { return a.Compare(b) })
	for _, day := range days {
		want.Rows = append(want.Rows, w.expect[q.Target][day]...)
	}
	diff := warehousetest.Diff(want, proj)
	if diff == "" {
		return nil
	}
	m := diffCounts.FindStringSubmatch(diff)
	if m == nil {
		w.problem("%s: table %s: %s", d.Format("2006-01-02"), q.Target, firstLine(diff))
		w.report.Losses++
		return nil
	}
	lost, _ := strconv.Atoi(m[1])
	extra, _ := strconv.Atoi(m[2])
	w.report.Losses += lost
	w.report.Duplicates += extra
	w.problem("%s: table %s: %s", d.Format("2006-01-02"), q.Target, firstLine(diff))
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// sample records the footprint after a garbage collection.
func (w *world) sample(day int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.report.Samples = append(w.report.Samples, Sample{Day: day + 1, HeapMiB: float64(ms.HeapAlloc) / (1 << 20),
		RSSMiB: rssMiB(), Goroutines: runtime.NumGoroutine()})
}

// rssMiB is the process's resident set (VmRSS of /proc/self/status), 0
// where there is none.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
