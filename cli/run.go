package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schedule"
)

const (
	runArgs    = "[--once] [--query NAME...] [--wait DURATION] [--config FILE] [--verbose]"
	runSummary = "run the due queries (or all with --once, or the named ones) and load their safe rows into the warehouse"
	runLock    = "A run holds the run lock of the history database, as serve's runs do: while serve or another run holds it,\n" +
		"run does nothing and exits 1 saying so (try again later), or with --wait waits for it that long"
)

// lockProgress is how often run says it is still waiting for the run lock.
const lockProgress = 10 * time.Second

// names is a repeatable string flag.
type names []string

func (n *names) String() string { return strings.Join(*n, ",") }

func (n *names) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*n = append(*n, v)
		}
	}
	return nil
}

var _ flag.Value = (*names)(nil)

func cmdRun(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "run", runArgs, runSummary+".\n\n"+runLock)
	once := fl.Bool("once", false, "run every query once now, whatever its schedule")
	var only names
	fl.Var(&only, "query", "run only the query `NAME` (repeatable, or comma-separated), whatever its schedule")
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	verbose := fl.Bool("verbose", false, "log every step on stderr, not only warnings and errors")
	wait := fl.Duration("wait", 0, "when serve or another run holds the run lock, wait for it up to `DURATION` (e.g. 30m) "+
		"instead of exiting 1 at once")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if *wait < 0 {
		return e.fail(ExitUsage, "run", "--wait %s: must not be negative", *wait)
	}
	if fl.NArg() > 0 {
		return e.fail(ExitUsage, "run", "unexpected argument %q (name queries with --query)", fl.Arg(0))
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "run", "%v", err)
	}
	if err := cfg.requireRun(); err != nil {
		return e.fail(ExitUsage, "run", "%v", err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := newLogger(e.stderr, level)
	defer flushLog(log)
	var prog *progress
	d, err := openDaily(ctx, cfg, log, func(rec runner.Recorder) runner.Recorder {
		prog = newProgress(rec, e.stderr, longQuery, nil, 0)
		return prog
	})
	if err != nil {
		if prog != nil {
			prog.close()
		}
		return e.fail(failCode(err), "run", "%v", err)
	}
	defer func() { _ = d.close() }()
	defer prog.close()

	cat, problems, err := loadCatalog(cfg)
	if err != nil {
		return e.fail(ExitUsage, "run", "%v", err)
	}
	for _, p := range problems {
		fmt.Fprintln(e.stderr, p.String())
	}
	selected, err := selectQueries(ctx, cat, only, *once, d.store, time.Now())
	if err != nil {
		return e.fail(ExitUsage, "run", "%v", err)
	}
	var invalid []runner.Invalid
	if len(only) == 0 {
		invalid = invalidQueries(cfg, cat, problems)
	}
	if len(selected) == 0 && len(invalid) == 0 {
		fmt.Fprintln(e.stdout, "no query is due; use --once to run them all now")
		return ExitOK
	}
	total, timeouts := 0, map[string]time.Duration{}
	for _, q := range selected {
		total += max(1, len(cfg.sourcesOfRole(q.Source)))
		timeouts[q.Name] = q.Timeout
	}
	for _, inv := range invalid {
		total += max(1, len(cfg.sourcesOfRole(inv.Query.Source)))
	}
	prog.expect(total, timeouts)
	lock, err := takeRunLock(ctx, e, d.store, *wait)
	if err != nil {
		return e.fail(ExitProblems, "run", "%v", err)
	}
	defer lock.Release()
	// Only the lock holder makes runs: one still running was left by a
	// process that died holding the lock.
	if n, err := d.store.AbandonRunning(ctx, runner.AbandonedReason); err != nil {
		return e.fail(ExitProblems, "run", "%v", err)
	} else if n > 0 {
		log.Warn("marked runs left running by a stopped process as failed", slog.Int64("runs", n))
	}
	res, err := d.runner.Run(ctx, runner.Options{Trigger: "manual", Queries: selected, Invalid: invalid, Held: lock.Check})
	if err != nil {
		return e.fail(ExitProblems, "run", "%v", err)
	}
	writeRunTable(e.stdout, res)
	noteResultStorage(e.stdout, cfg)
	// A query named with --query that did not run (not approved, drifted)
	// is a failure of what was asked, whatever the run's status.
	skipped := false
	for _, q := range res.Queries {
		if q.Status == history.QuerySkipped && len(only) > 0 {
			fmt.Fprintf(e.stderr, "metricgate run: %s (%s) was not run: %s\n", q.Query, q.Source, oneLine(q.Error, 300))
			skipped = true
		}
	}
	// Problems of files the run did not record (unreadable ones) count too,
	// unless the run was limited to named queries.
	if res.Status != history.RunSucceeded || skipped || (len(problems) > 0 && len(only) == 0) {
		return ExitProblems
	}
	return ExitOK
}

// errRunLockHeld is run's answer when serve or another run holds the run
// lock (and --wait, if given, ran out).
var errRunLockHeld = errors.New("another metricgate is making a run (metricgate serve, or another metricgate run, holds the run lock of the history database): nothing was run; " +
	"try again when it has finished, or pass --wait DURATION to wait for it")

// takeRunLock takes the run lock without waiting, or waits for it up to
// wait, saying on stderr every lockProgress that it is waiting. It polls
// (TryWatchedRunLock) rather than blocking in pg_advisory_lock, so that
// the wait is bounded and the lock is watched like serve's.
func takeRunLock(ctx context.Context, e *env, store *history.Store, wait time.Duration) (*history.RunLock, error) {
	deadline := time.Now().Add(wait)
	lastSaid := time.Now()
	for first := true; ; first = false {
		lock, ok, err := store.TryWatchedRunLock(ctx, 0)
		if err != nil {
			return nil, err
		}
		if ok {
			return lock, nil
		}
		if !time.Now().Before(deadline) {
			if wait > 0 {
				return nil, fmt.Errorf("waited %s: %w", wait, errRunLockHeld)
			}
			return nil, errRunLockHeld
		}
		if first || time.Since(lastSaid) >= lockProgress {
			fmt.Fprintf(e.stderr, "metricgate run: waiting for the run lock (serve or another run is making a run), up to %s more\n",
				time.Until(deadline).Round(time.Second))
			lastSaid = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the run lock: %w", context.Cause(ctx))
		case <-time.After(min(time.Second, time.Until(deadline))):
		}
	}
}

// failCode is ExitUsage for configuration errors, ExitProblems otherwise.
func failCode(err error) int {
	var ce *configError
	if errors.As(err, &ce) {
		return ExitUsage
	}
	return ExitProblems
}

// configError is a setting that cannot work.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// requireRun names the first setting a run needs that is not set.
func (c *Config) requireRun() error {
	if c.History.URL == "" {
		return &configError{"history.url is not set: set it in the config file or METRICGATE_HISTORY_URL"}
	}
	for _, name := range slices.Sorted(mapKeys(c.Sources)) {
		if c.Sources[name].URL == "" {
			return &configError{fmt.Sprintf("sources.%s.url is not set: set it in the config file or METRICGATE_SOURCES_%s_URL",
				name, strings.ToUpper(name))}
		}
	}
	if c.Queries.Approval == "gitlab" {
		return c.requireGitLab("queries.approval gitlab")
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// daily is what a run works with: the history store, the warehouse and the
// runner over them.
type daily struct {
	store  *history.Store
	wh     warehouseWriter
	runner *runner.Runner
}

func (d *daily) close() error {
	var errs []error
	if d.wh != nil {
		errs = append(errs, d.wh.Close())
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	return errors.Join(errs...)
}

// openDaily opens the history database (applying its migrations) and the
// warehouse, and builds the runner.
// wrap, when given, wraps the history store as the runner's Recorder
// (run's progress lines).
func openDaily(ctx context.Context, cfg *Config, log *slog.Logger, wrap ...func(runner.Recorder) runner.Recorder) (_ *daily, err error) {
	d := &daily{}
	defer func() {
		if err != nil {
			_ = d.close()
		}
	}()
	if d.store, err = openMigratedHistory(ctx, cfg.History.URL.Reveal()); err != nil {
		return nil, err
	}
	if d.wh, err = openResultWriter(ctx, cfg); err != nil { // results.storage_url, or the warehouse
		return nil, err
	}
	g, err := newGuard(cfg)
	if err != nil {
		return nil, &configError{err.Error()}
	}
	var approver runner.Approver = review.None{}
	switch cfg.Queries.Approval {
	case "git":
		approver = review.Git{Dir: cfg.Queries.Dir, Branch: cfg.Queries.Branch}
	case "gitlab":
		if approver, err = cfg.gitLabApprover(d.store, log); err != nil {
			return nil, err
		}
	}
	var rec runner.Recorder = d.store
	for _, w := range wrap {
		rec = w(rec)
	}
	d.runner, err = runner.New(cfg.runnerConfig(), runner.Deps{Guard: g, Writer: d.wh, Recorder: rec,
		Approver: approver, Logger: log})
	if err != nil {
		return nil, &configError{err.Error()}
	}
	return d, nil
}

// runnerConfig is the runner's part of the configuration.
func (c *Config) runnerConfig() runner.Config {
	sources := map[string]runner.Source{}
	for name := range c.Sources {
		sources[name] = c.runnerSource(name)
	}
	return runner.Config{Sources: sources, Workers: c.Queries.Workers, Approval: c.Queries.Approval}
}

// loadCatalog loads queries.dir. Files with problems are returned as
// problems; the valid ones still run.
func loadCatalog(cfg *Config) (*catalog.Catalog, catalog.Problems, error) {
	info, err := os.Stat(cfg.Queries.Dir)
	if err != nil || !info.IsDir() {
		return nil, nil, fmt.Errorf("queries.dir %s: not a directory", cfg.Queries.Dir)
	}
	cat, err := catalog.Load(os.DirFS(cfg.Queries.Dir), cfg.catalogConfig())
	var problems catalog.Problems
	if err != nil && !errors.As(err, &problems) {
		return nil, nil, err
	}
	for i := range problems {
		problems[i].Path = cfg.Queries.Dir + "/" + problems[i].Path
	}
	return cat, problems, nil
}

// invalidQueries pairs the catalog's invalid files with their problems,
// for the run to record them as failed.
func invalidQueries(cfg *Config, cat *catalog.Catalog, problems catalog.Problems) []runner.Invalid {
	var out []runner.Invalid
	for _, q := range cat.Invalid {
		inv := runner.Invalid{Query: q}
		for _, p := range problems {
			if p.Path == cfg.Queries.Dir+"/"+q.Path {
				inv.Problems = append(inv.Problems, p.String())
			}
		}
		out = append(out, inv)
	}
	return out
}

// selectQueries picks the queries of a run: the named ones, all with once,
// else the ones due at now by their schedule and their last success.
func selectQueries(ctx context.Context, cat *catalog.Catalog, only []string, once bool, store *history.Store, now time.Time) ([]*catalog.Query, error) {
	if len(only) > 0 {
		var out []*catalog.Query
		for _, name := range only {
			q, ok := cat.Lookup(name)
			if !ok {
				return nil, fmt.Errorf("--query %s: no such query in the catalog%s", name, didYouMean(name, cat))
			}
			if !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
		return out, nil
	}
	if once {
		return cat.Queries, nil
	}
	// The one rule of "due", shared with the status API and the soak.
	return schedule.DueQueries(ctx, store, cat.Queries, now)
}

// didYouMean suggests the closest query name.
func didYouMean(name string, cat *catalog.Catalog) string {
	if s := cat.Suggest(name); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// writeRunTable prints one line per query run (a query runs once on each
// source of its role) and a summary line.
func writeRunTable(w io.Writer, res *runner.Result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "query\tsource\tstatus\trows\tsuppressed\tcells\tduration\tnote")
	var counts = map[history.QueryStatus]int{}
	for _, q := range res.Queries {
		counts[q.Status]++
		note := q.Error
		if q.Attempts > 1 {
			note = strings.TrimSpace(fmt.Sprintf("%d attempts; %s", q.Attempts, note))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", q.Query, q.Source, q.Status, q.RowsLoaded, q.RowsSuppressed,
			q.CellsSuppressed, q.Duration.Round(time.Millisecond), oneLine(note, 160))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nrun %d %s: %d succeeded, %d failed, %d skipped", res.RunID, res.Status,
		counts[history.QuerySucceeded], counts[history.QueryFailed], counts[history.QuerySkipped])
	if res.Error != "" {
		fmt.Fprintf(w, " (%s)", res.Error)
	}
	fmt.Fprintln(w)
}

// oneLine folds s onto one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
