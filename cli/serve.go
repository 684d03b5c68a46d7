package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gitlab.com/metricgate/metricgate/api"
	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/redact"
	"gitlab.com/metricgate/metricgate/runner"
)

const (
	serveArgs    = "[--config FILE] [--listen ADDR] [--log-format json|text] [--shutdown-timeout DURATION]"
	serveSummary = "run the due queries at every tick of the schedule (one run across replicas) and serve the status API, /metrics and the status page"
)

// abandonedReason is recorded for the runs a dead process left running.
const abandonedReason = runner.AbandonedReason

func cmdServe(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "serve", serveArgs, serveSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	listen := fl.String("listen", "", "listen `address` (default api.listen, :8080)")
	logFormat := fl.String("log-format", "", "log format on stderr: json (default) or text (default on a terminal)")
	shutdownTimeout := fl.Duration("shutdown-timeout", 30*time.Second,
		"on SIGTERM, how long the running queries may go on before they are cancelled")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if fl.NArg() > 0 {
		return e.fail(ExitUsage, "serve", "unexpected argument %q", fl.Arg(0))
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "serve", "%v", err)
	}
	if *listen != "" {
		cfg.API.Listen = *listen
	}
	if err := cfg.requireServe(); err != nil {
		return e.fail(ExitUsage, "serve", "%v", err)
	}
	if *shutdownTimeout <= 0 {
		return e.fail(ExitUsage, "serve", "--shutdown-timeout %s: must be positive", *shutdownTimeout)
	}
	format := *logFormat
	if format == "" {
		format = "json"
		if isTerminal(e.stderr) {
			format = "text"
		}
	}
	if format != "json" && format != "text" {
		return e.fail(ExitUsage, "serve", "--log-format %q: must be json or text", format)
	}
	// The commands' handler: durations as text, each key once per line,
	// repeated errors folded, no IP address in any line.
	handler, err := newLogHandler(e.stderr, format, nil)
	if err != nil {
		return e.fail(ExitUsage, "serve", "--log-format: %v", err)
	}
	log := slog.New(handler)
	defer flushLog(log)
	if err := serve(ctx, cfg, log, *shutdownTimeout); err != nil {
		log.Error("serve", slog.String("error", err.Error()))
		return failCode(err)
	}
	return ExitOK
}

// requireServe names the first setting serve needs that is not set, or
// that is unsafe.
func (c *Config) requireServe() error {
	if err := c.requireRun(); err != nil {
		return err
	}
	if c.API.Token == "" && !c.API.AllowUnauthenticatedRuns {
		return &configError{"api.token is not set: POST /api/v1/runs needs it (set it in the config file or METRICGATE_API_TOKEN, " +
			"or set api.allow_unauthenticated_runs: true to let anyone who reaches the API start runs)"}
	}
	if c.API.ReadToken != "" && c.API.ReadToken == c.API.Token {
		return &configError{"api.read_token must differ from api.token"}
	}
	if c.API.FreshnessGrace < 0 {
		return &configError{"api.freshness_grace: must be positive"}
	}
	if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
		return &configError{fmt.Sprintf("api.listen %q: want host:port or :port", c.API.Listen)}
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// serve runs until ctx is cancelled (SIGTERM, SIGINT), then shuts down:
// no new runs or queries, the running queries get shutdownTimeout to end,
// the run records its outcome, the HTTP server drains.
func serve(ctx context.Context, cfg *Config, log *slog.Logger, shutdownTimeout time.Duration) error {
	return serveWith(ctx, cfg, log, runner.SchedulerConfig{ShutdownTimeout: shutdownTimeout})
}

// serveWith is serve with the scheduler's settings (its Schedule is
// cfg.Schedule's): the fault tests shorten its waits.
func serveWith(ctx context.Context, cfg *Config, log *slog.Logger, sc runner.SchedulerConfig) (err error) {
	shutdownTimeout := cmp.Or(sc.ShutdownTimeout, 30*time.Second)
	sched, err := catalog.ParseRunSchedule(cfg.Schedule)
	if err != nil {
		return &configError{fmt.Sprintf("schedule %q: %v", cfg.Schedule, err)}
	}
	// Listen first: /healthz answers while serve waits for the run lock
	// (another replica in the middle of a run), /readyz and the rest
	// answer 503 "starting" until then.
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.API.Listen, err)
	}
	var cat atomic.Pointer[catalog.Catalog]
	runs := &lateRuns{schedule: sched}
	reads := &lateHistory{}
	deps := api.Deps{History: reads, Runs: runs, Catalog: cat.Load, Logger: log}
	var jobs *dumpJobs
	if cfg.Dump.Schedule {
		jobs = newDumpJobs(cfg)
		deps.Jobs = jobs
	}
	a, err := api.New(cfg.apiConfig(), deps)
	if err != nil {
		_ = ln.Close()
		return &configError{err.Error()}
	}
	a.SetStarting("connecting to the history database")
	srv := api.NewServer(cfg.API.Listen, a, log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// The process's own listen address is kept: operators and uptime
	// checks need it.
	log.Info("listening", redact.Keep("addr", ln.Addr().String()))
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if serr := srv.Shutdown(sctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("shut down the HTTP server: %w", serr))
		}
	}()
	defer func() {
		if s := reads.s.Load(); s != nil {
			err = errors.Join(err, s.Close())
		}
	}()

	d, err := startUpRetrying(ctx, cfg, log, a, reads, sc)
	if err != nil || d == nil {
		return err
	}
	defer func() { err = errors.Join(err, d.close()) }()

	c, problems, err := loadCatalog(cfg)
	if err != nil {
		return &configError{err.Error()}
	}
	cat.Store(c)
	logProblems(log, problems)
	plan := func(ctx context.Context, names []string, all bool, now time.Time) (runner.Options, error) {
		c, problems, err := loadCatalog(cfg)
		if err != nil {
			return runner.Options{}, err
		}
		cat.Store(c)
		logProblems(log, problems)
		selected, err := selectQueries(ctx, c, names, all, d.store, now)
		if err != nil {
			return runner.Options{}, err
		}
		var invalid []runner.Invalid
		if len(names) == 0 {
			invalid = invalidQueries(cfg, c, problems)
		}
		return runner.Options{Queries: selected, Invalid: invalid}, nil
	}
	sc.Schedule, sc.ShutdownTimeout = cfg.Schedule, shutdownTimeout
	s, err := runner.NewScheduler(sc,
		runner.SchedulerDeps{Runner: d.runner, Store: d.store, Plan: plan, Logger: log})
	if err != nil {
		return &configError{err.Error()}
	}
	runs.s.Store(s)
	// Runs outlive the signal: Shutdown ends them, at its deadline.
	s.Start(context.WithoutCancel(ctx))
	// Dumps (dump.schedule) stop with the signal: a cancelled dump leaves
	// no manifest, the previous one stays.
	defer startDumpScheduler(ctx, cfg, d.store, d.wh, log, jobs)()
	a.SetStarting("")
	a.Invalidate()
	log.Info("serving", redact.Keep("addr", ln.Addr().String()), slog.String("schedule", cfg.Schedule),
		slog.Time("next_run", s.Next(time.Now()).UTC()), slog.Int("queries", len(c.Queries)),
		slog.String("approval", cfg.Queries.Approval))

	select {
	case <-ctx.Done():
		log.Info("shutting down: no new runs; the running queries get the shutdown timeout",
			slog.Duration("timeout", shutdownTimeout))
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", slog.String("error", err.Error()))
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout+time.Minute)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// startUpRetrying opens the API's history reads (into reads) and makes
// the start-up (startUp), trying again while the history database cannot
// be used (down, restarting, unreachable), as the scheduler does later:
// every attempt is logged with its error, the API answers 503 "starting"
// (/readyz too) meanwhile, the waits double from sc.RetryBackoff (1s) to
// sc.MaxRetryBackoff (5m). A configuration error ends it; so does ctx,
// with a nil daily and no error (a shutdown while waiting).
func startUpRetrying(ctx context.Context, cfg *Config, log *slog.Logger, a *api.API, reads *lateHistory, sc runner.SchedulerConfig) (*daily, error) {
	backoff := cmp.Or(sc.RetryBackoff, time.Second)
	maxBackoff := cmp.Or(sc.MaxRetryBackoff, 5*time.Minute)
	for attempt := 1; ; attempt++ {
		err := func() error {
			if reads.s.Load() == nil {
				store, err := openHistory(ctx, cfg.History.URL.Reveal())
				if err != nil {
					return err
				}
				reads.s.Store(store)
			}
			return nil
		}()
		var d *daily
		if err == nil {
			a.SetStarting("waiting for the run lock to migrate the history database")
			d, err = startUp(ctx, cfg, log, reads.s.Load())
		}
		if err == nil {
			return d, nil
		}
		if ce := (*configError)(nil); errors.As(err, &ce) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, nil //nolint:nilerr // a shutdown while starting is not an error
		}
		log.Error("start: the history database cannot be used yet; trying again", slog.Int("attempt", attempt),
			slog.Duration("backoff", backoff), slog.String("error", err.Error()))
		a.SetStarting(fmt.Sprintf("waiting for the history database (attempt %d failed, next in %s; see the logs)", attempt, backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// lateHistory is the API's history, which is open only once the history
// database answered at start (the API answers "starting" until then).
type lateHistory struct {
	s atomic.Pointer[history.Store]
}

var _ api.History = (*lateHistory)(nil)

// errHistoryNotOpen is lateHistory's answer before the history is open.
var errHistoryNotOpen = errors.New("the history database is not open yet")

func (l *lateHistory) store() (*history.Store, error) {
	if s := l.s.Load(); s != nil {
		return s, nil
	}
	return nil, errHistoryNotOpen
}

func (l *lateHistory) Ping(ctx context.Context) error {
	s, err := l.store()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

func (l *lateHistory) Runs(ctx context.Context, limit int) ([]history.Run, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.Runs(ctx, limit)
}

func (l *lateHistory) Run(ctx context.Context, id int64) (history.Run, error) {
	s, err := l.store()
	if err != nil {
		return history.Run{}, err
	}
	return s.Run(ctx, id)
}

func (l *lateHistory) QueryRuns(ctx context.Context, runID int64) ([]history.QueryRun, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.QueryRuns(ctx, runID)
}

func (l *lateHistory) QueryHistory(ctx context.Context, query string, limit int) ([]history.QueryRun, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.QueryHistory(ctx, query, limit)
}

func (l *lateHistory) LastSuccessPerSource(ctx context.Context, query string) ([]history.QueryRun, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.LastSuccessPerSource(ctx, query)
}

func (l *lateHistory) SuccessesSince(ctx context.Context, query string, since time.Time) ([]history.QueryRun, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.SuccessesSince(ctx, query, since)
}

func (l *lateHistory) SucceededDumpsSince(ctx context.Context, since time.Time) ([]history.Dump, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.SucceededDumpsSince(ctx, since)
}

func (l *lateHistory) SucceededDumpLoadsSince(ctx context.Context, since time.Time) ([]history.DumpLoad, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.SucceededDumpLoadsSince(ctx, since)
}

func (l *lateHistory) Dumps(ctx context.Context, limit int) ([]history.Dump, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.Dumps(ctx, limit)
}

func (l *lateHistory) DumpLoads(ctx context.Context, limit int) ([]history.DumpLoad, error) {
	s, err := l.store()
	if err != nil {
		return nil, err
	}
	return s.DumpLoads(ctx, limit)
}

// startUp holds the run lock (waiting while another replica makes a run)
// to migrate the history database and mark the runs a dead process left
// running as failed, then opens the warehouse and the runner.
func startUp(ctx context.Context, cfg *Config, log *slog.Logger, store *history.Store) (*daily, error) {
	release, ok, err := store.TryRunLock(ctx)
	if err == nil && !ok {
		log.Info("waiting for the run lock: another replica is making a run")
		release, err = store.RunLock(ctx)
	}
	if err != nil {
		return nil, err
	}
	defer release()
	d, err := openDaily(ctx, cfg, log) // migrates
	if err != nil {
		return nil, err
	}
	n, err := d.store.AbandonRunning(ctx, abandonedReason)
	if err != nil {
		_ = d.close()
		return nil, err
	}
	if n > 0 {
		log.Warn("marked runs left running by a stopped process as failed", slog.Int64("runs", n))
	}
	return d, nil
}

func logProblems(log *slog.Logger, problems catalog.Problems) {
	for _, p := range problems {
		log.Warn("invalid query file", slog.String("problem", p.String()))
	}
}

// lateRuns is the API's view of the scheduler, which exists only once the
// start-up is done (the API answers "starting" until then).
type lateRuns struct {
	schedule catalog.Schedule
	s        atomic.Pointer[runner.Scheduler]
}

// apiSources lists the configured sources by name, without their URLs.
func (c *Config) apiSources() []api.Source {
	out := []api.Source{}
	for _, name := range slices.Sorted(mapKeys(c.Sources)) {
		s := c.Sources[name]
		out = append(out, api.Source{Name: name, Role: s.Role, Cell: s.Cell})
	}
	return out
}

func (l *lateRuns) Trigger(ctx context.Context, trigger string, names []string) (int64, error) {
	s := l.s.Load()
	if s == nil {
		return 0, runner.ErrRunInProgress
	}
	return s.Trigger(ctx, trigger, names)
}

func (l *lateRuns) Next(now time.Time) time.Time { return l.schedule.Next(now) }

// TickError is the scheduler's: why the newest tick's run could not start.
func (l *lateRuns) TickError() (runner.TickError, bool) {
	if s := l.s.Load(); s != nil {
		return s.TickError()
	}
	return runner.TickError{}, false
}

func (l *lateRuns) Schedule() catalog.Schedule { return l.schedule }

// apiConfig is the API's part of the configuration, with the settings it
// shows, secrets hidden.
func (c *Config) apiConfig() api.Config {
	set := func(s Secret) string {
		if s == "" {
			return "not set"
		}
		return "set"
	}
	settings := []api.Setting{
		{Key: "schedule", Value: c.Schedule},
		{Key: "queries.approval", Value: c.Queries.Approval},
		{Key: "queries.workers", Value: strconv.Itoa(c.Queries.Workers)},
		{Key: "warehouse", Value: displayURL(c.Warehouse.URL.Reveal())},
		{Key: "history", Value: displayURL(c.History.URL.Reveal())},
	}
	for _, name := range slices.Sorted(mapKeys(c.Sources)) {
		settings = append(settings, api.Setting{Key: "sources." + name, Value: displayURL(c.Sources[name].URL.Reveal())})
	}
	// What a reviewer audits: the group size, the timeout bound and the
	// schema catalog (its file and version) the guard runs with.
	catalogFile, catalogVersion := c.Guard.Schema, "unreadable"
	if catalogFile == "" {
		catalogFile = "schema.yml (or the built-in copy)"
	}
	if sc, err := loadSchema(c); err == nil {
		catalogFile, catalogVersion = sc.File, sc.Version
	}
	settings = append(settings,
		api.Setting{Key: "guard.min_group_size", Value: strconv.Itoa(c.Guard.MinGroupSize)},
		api.Setting{Key: "guard.max_timeout", Value: time.Duration(c.Guard.MaxTimeout).String()},
		api.Setting{Key: "guard.schema", Value: catalogFile + ", version " + catalogVersion},
		api.Setting{Key: "api.token", Value: set(c.API.Token)},
		api.Setting{Key: "api.read_token", Value: set(c.API.ReadToken)},
		api.Setting{Key: "api.freshness_grace", Value: time.Duration(c.API.FreshnessGrace).String()},
		api.Setting{Key: "api.slo_window", Value: time.Duration(c.API.SLOWindow).String()})
	return api.Config{
		Token:                    c.API.Token.Reveal(),
		ReadToken:                c.API.ReadToken.Reveal(),
		AllowUnauthenticatedRuns: c.API.AllowUnauthenticatedRuns,
		Approval:                 c.Queries.Approval,
		FreshnessGrace:           time.Duration(c.API.FreshnessGrace),
		SLOWindow:                time.Duration(c.API.SLOWindow),
		DumpFreshnessSLO:         c.dumpFreshnessSLO(),
		Settings:                 settings,
		Sources:                  c.apiSources(),
		Version:                  Version(),
	}
}

// dumpFreshnessSLO is the API's DumpFreshnessSLO: dump.freshness_slo
// when serve's dump scheduler is on; else none, and the API expects a
// daily dump.
func (c *Config) dumpFreshnessSLO() time.Duration {
	if !c.Dump.Schedule {
		return 0
	}
	return time.Duration(c.Dump.FreshnessSLO)
}

// displayURL shows a connection URL without its password or query (which
// may hold one: ?password=, ?sslpassword=); a key=value connection string,
// which cannot be redacted reliably, is not shown.
func displayURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || strings.Contains(s, " ") {
		return "(connection string not shown)"
	}
	u.RawQuery, u.Fragment = "", ""
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}
