package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/snapshot"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// Writer loads query results into the warehouse. Write returns the number
// of rows written; on error the table is left as it was.
type Writer interface {
	Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error)
}

// Recorder keeps the history of runs (history.Store).
type Recorder interface {
	StartRun(ctx context.Context, r history.Run) (int64, error)
	FinishRun(ctx context.Context, id int64, status history.RunStatus, errText string, finishedAt time.Time) error
	StartQueryRun(ctx context.Context, q history.QueryRun) (int64, error)
	FinishQueryRun(ctx context.Context, q history.QueryRun) error
}

// Approver decides which query files may run (review.None, review.Git,
// review.GitLab).
// The map is keyed by query name; an error means nothing could be decided.
type Approver interface {
	Approve(ctx context.Context, queries []*catalog.Query) (map[string]review.Approval, error)
}

// Source is one source database.
type Source struct {
	// Name is the source's name, for messages. Default: its key in
	// Config.Sources.
	Name string
	// URL is the connection string of a read-only role.
	URL string
	// Role is what the source is (main, ci, …), as queries' source headers
	// name it: a query runs on every source of its role. Default: the
	// source's name.
	Role string
	// Cell is the cell the source belongs to, for the status; "" when the
	// instance has no cells.
	Cell string
	// AsOf is an SQL expression giving the time the source's data is as of;
	// default "now()". For a restored backup, e.g.
	// "(SELECT max(updated_at) FROM events)".
	AsOf string
	// MaxAge refuses a run on a source whose as-of time is older. Default 26h.
	MaxAge time.Duration
	// MaxCost is the largest EXPLAIN total cost a query may have on the
	// source; a query's max_cost header may lower it, not raise it.
	// Default DefaultMaxCost (1e9).
	MaxCost float64
	// WorkMem is every query's work_mem (SET LOCAL), such as "64MB".
	// Default DefaultWorkMem.
	WorkMem string
	// TempFileLimit is every query's temp_file_limit (SET LOCAL), such as
	// "1GB", "-1" for none. Only a superuser may set it: when the source's
	// role may not, the role's own setting applies and the run logs, once,
	// how to set it on the role. Default DefaultTempFileLimit.
	TempFileLimit string
}

// Config configures a Runner. Zero values mean the documented defaults.
type Config struct {
	// Sources by name. A query's source header names a role; the query
	// runs on every source of that role, each on its own snapshot, and its
	// rows carry the source's name in _source.
	Sources map[string]Source
	// Workers is how many queries run at once, across every source of the
	// run: the sources run side by side, each on its own snapshot, and
	// take turns for the slots. Default 2.
	Workers int
	// Approval names the approval mode in force, for the run record:
	// none, git or gitlab. Default "none".
	Approval string
	// LockTimeout is each query's lock_timeout. Default 10s.
	LockTimeout time.Duration
	// IdleTimeout is each query's idle_in_transaction_session_timeout.
	// Default 10m.
	IdleTimeout time.Duration
	// Attempts is how many times a query is tried when it fails with a
	// transient error (lost connection, serialization failure). Default 3.
	Attempts int
	// Backoff is the wait before the first retry; it doubles each time.
	// Default 1s.
	Backoff time.Duration
	// ApplicationName prefixes the application_name of every connection.
	// Default "metricgate".
	ApplicationName string
}

func (c Config) withDefaults() Config {
	c.Workers = cmp.Or(c.Workers, 2)
	c.Approval = cmp.Or(c.Approval, "none")
	c.LockTimeout = cmp.Or(c.LockTimeout, 10*time.Second)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, 10*time.Minute)
	c.Attempts = cmp.Or(c.Attempts, 3)
	c.Backoff = cmp.Or(c.Backoff, time.Second)
	c.ApplicationName = cmp.Or(c.ApplicationName, "metricgate")
	sources := make(map[string]Source, len(c.Sources))
	for name, s := range c.Sources {
		s.AsOf = cmp.Or(strings.TrimSpace(s.AsOf), "now()")
		s.MaxAge = cmp.Or(s.MaxAge, 26*time.Hour)
		s.Role = cmp.Or(s.Role, name)
		s.Name = cmp.Or(s.Name, name)
		s.MaxCost = cmp.Or(s.MaxCost, DefaultMaxCost)
		s.WorkMem = cmp.Or(strings.TrimSpace(s.WorkMem), DefaultWorkMem)
		s.TempFileLimit = cmp.Or(strings.TrimSpace(s.TempFileLimit), DefaultTempFileLimit)
		sources[name] = s
	}
	c.Sources = sources
	return c
}

func (c Config) validate() error {
	if c.Workers < 1 {
		return fmt.Errorf("workers %d: must be at least 1", c.Workers)
	}
	if c.Attempts < 1 {
		return fmt.Errorf("attempts %d: must be at least 1", c.Attempts)
	}
	if len(c.Sources) == 0 {
		return errors.New("sources: none configured")
	}
	for name, s := range c.Sources {
		if s.URL == "" {
			return fmt.Errorf("sources.%s.url: not set", name)
		}
		if s.MaxAge < 0 {
			return fmt.Errorf("sources.%s.max_age: must be positive", name)
		}
		if s.MaxCost < 0 {
			return fmt.Errorf("sources.%s.max_cost: must be positive", name)
		}
	}
	return nil
}

// Runner makes runs. It is safe for concurrent use, though runs are meant to
// be made one at a time (serve holds a lock for that).
type Runner struct {
	cfg      Config
	guard    *guard.Guard
	writer   Writer
	rec      Recorder
	approver Approver
	log      *slog.Logger
	now      func() time.Time
	// tempWarned holds the names of the sources whose role was found
	// unable to set temp_file_limit, to say so once.
	tempWarned sync.Map
}

// Deps are what a Runner works with.
type Deps struct {
	Guard    *guard.Guard
	Writer   Writer
	Recorder Recorder
	// Approver decides which files may run; required, so that no caller
	// runs unreviewed files by forgetting it (review.None says so
	// explicitly).
	Approver Approver
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// New returns a Runner, or an error naming the configuration field that
// cannot work.
func New(cfg Config, deps Deps) (*Runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("runner config: %w", err)
	}
	if deps.Guard == nil || deps.Writer == nil || deps.Recorder == nil || deps.Approver == nil {
		return nil, errors.New("runner: a guard, a writer, a recorder and an approver are required")
	}
	r := &Runner{cfg: cfg, guard: deps.Guard, writer: deps.Writer, rec: deps.Recorder,
		approver: deps.Approver, log: deps.Logger, now: deps.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// Options select what a run does.
type Options struct {
	// Trigger is recorded with the run: "schedule", "manual", "api", ….
	// Default "manual".
	Trigger string
	// Queries are the queries to run, normally the due queries of the
	// catalog.
	Queries []*catalog.Query
	// Invalid are query files the catalog could not accept, with their
	// problems ("queries/a/b.sql:3:8: unknown header key …"). They never
	// run; each is recorded as a failed query run so that the status shows
	// the broken file.
	Invalid []Invalid
	// Stop, when closed, starts no more queries: those not yet started are
	// recorded as failed with CancelledByShutdown, the running ones go on
	// until they end or ctx is cancelled (with cause ErrShuttingDown, they
	// are recorded the same way). Nil never closes.
	Stop <-chan struct{}
	// Started, when set, is called with the run's id once it is recorded.
	Started func(runID int64)
	// Held, when set, is called before each query starts, to make sure
	// the run lock is still held (history.RunLock.Check). Once it returns
	// an error, no more queries start: those not started are recorded as
	// failed with the error's text ("run lock lost: …"), so that a run
	// that lost its lock does not go on beside another replica's.
	Held func(ctx context.Context) error
}

// Invalid is a query file with problems.
type Invalid struct {
	Query    *catalog.Query
	Problems []string
}

// Result is what a run did.
type Result struct {
	RunID  int64
	Status history.RunStatus
	// Error says why the run failed as a whole, or which sources failed.
	Error string
	// Queries are the query runs, one per query and source of its role
	// (QueryRun.Source is the source's name; the role's name when no
	// source has the role), in the order of Options.Queries and then of
	// the sources' names, followed by those of Options.Invalid.
	Queries []history.QueryRun
	// Transient says, for each of Queries, whether it failed for a reason
	// that may pass (a lost connection it was retried after, a source that
	// could not be used, a snapshot lost twice, the run lock lost), so that
	// running it again later may load it. A query that failed otherwise (an
	// SQL error, the type rule, max_rows, a shutdown) would fail again.
	Transient []bool
}

// sourcesOf returns the names of the sources of role, sorted.
func (r *Runner) sourcesOf(role string) []string {
	var names []string
	for name, s := range r.cfg.Sources {
		if s.Role == role {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// noSourceError is the failure of a query whose role no source has.
func (r *Runner) noSourceError(role string) string {
	roles := make([]string, 0, len(r.cfg.Sources))
	for _, s := range r.cfg.Sources {
		if !slices.Contains(roles, s.Role) {
			roles = append(roles, s.Role)
		}
	}
	slices.Sort(roles)
	return fmt.Sprintf("no source has role %q (configured roles: %s): add a source with role %s to sources in the config",
		role, strings.Join(roles, ", "), role)
}

// Run makes one run: it records the run, decides approval, checks every
// query with the guard again, and runs the rest source by source — a
// query on every source of its role — each source on one exported
// snapshot, loading only the rows the group-size filter keeps, which it
// applies to each source's rows alone. Queries and sources fail
// independently; the returned Result says which. An error is returned
// only when the run could not be recorded at all.
func (r *Runner) Run(ctx context.Context, opts Options) (*Result, error) {
	started := r.now()
	run := history.Run{Trigger: cmp.Or(opts.Trigger, "manual"), Approval: r.cfg.Approval,
		Status: history.RunRunning, StartedAt: started}
	id, err := r.rec.StartRun(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	res := &Result{RunID: id, Queries: make([]history.QueryRun, 0, len(opts.Queries)+len(opts.Invalid))}
	log := r.log.With(slog.Int64("run_id", id))
	log.Info("run started", slog.Int("queries", len(opts.Queries)), slog.String("trigger", run.Trigger))
	if opts.Started != nil {
		opts.Started(id)
	}

	var runErrs []string
	approvals, err := r.approver.Approve(ctx, opts.Queries)
	if err != nil {
		runErrs = append(runErrs, fmt.Sprintf("approval: %v", err))
		approvals = nil
	}

	// Decide what runs; record the rest as skipped or failed right away.
	// Each query gets one query run per source of its role.
	bySource := map[string][]*job{}
	transient := map[int]bool{}
	for _, q := range opts.Queries {
		names := r.sourcesOf(q.Source)
		if len(names) == 0 {
			now := r.now()
			res.Queries = append(res.Queries, r.record(ctx, log, history.QueryRun{RunID: id, Query: q.Name, Target: q.Target,
				Source: q.Source, SHA256: q.SHA256, Status: history.QueryFailed, Error: r.noSourceError(q.Source),
				StartedAt: now, FinishedAt: now}, true))
			continue
		}
		qr := history.QueryRun{RunID: id, Query: q.Name, Target: q.Target, SHA256: q.SHA256}
		a, ok := approvals[q.Name]
		switch {
		case approvals == nil:
			qr.Status, qr.Error = history.QuerySkipped, "approval could not be checked: "+fmt.Sprint(err)
		case !ok:
			qr.Status, qr.Error = history.QuerySkipped, "no approval decision"
		case !a.OK():
			qr.Status, qr.Error = history.QuerySkipped, fmt.Sprintf("%s: %s", a.State, a.Reason)
		}
		qr.Commit, qr.Approval, qr.MRIID = a.Commit, a.Summary, a.MRIID
		var an *guard.Analysis
		if qr.Status == "" {
			var vs []guard.Violation
			an, vs = r.guard.CheckQuery(q)
			if len(vs) > 0 {
				msgs := make([]string, 0, min(len(vs), 3))
				for _, v := range vs[:min(len(vs), 3)] {
					msgs = append(msgs, fmt.Sprintf("%s:%s", q.Path, v))
				}
				qr.Status, qr.Error = history.QueryFailed, "refused by the guard: "+strings.Join(msgs, "; ")
			}
		}
		for _, name := range names {
			qr := qr
			qr.Source, qr.StartedAt = name, r.now()
			if qr.Status == "" {
				bySource[name] = append(bySource[name], &job{index: len(res.Queries), query: q, analysis: an, qr: qr})
			} else {
				qr.FinishedAt = r.now()
				qr = r.record(ctx, log, qr, true)
			}
			res.Queries = append(res.Queries, qr)
		}
	}

	gate := newGate(opts)
	sources := make([]string, 0, len(bySource))
	for name := range bySource {
		sources = append(sources, name)
	}
	slices.Sort(sources)
	// The sources run at once, each on its own snapshot, within one budget
	// of Workers queries at a time: a worker takes a slot before each
	// query and gives it back after, and slots go to waiting workers in
	// turn (a channel's waiters are served first come, first served), so
	// that a source with many queries does not starve the others.
	slots := make(chan struct{}, r.cfg.Workers)
	srcErrs := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, name := range sources {
		wg.Go(func() { srcErrs[i] = r.runSource(ctx, log, id, name, bySource[name], gate, slots) })
	}
	wg.Wait()
	for i, name := range sources {
		if srcErrs[i] != nil {
			runErrs = append(runErrs, srcErrs[i].Error())
		}
		for _, j := range bySource[name] {
			res.Queries[j.index] = j.qr
			if j.transient {
				transient[j.index] = true
			}
		}
	}

	for _, inv := range opts.Invalid {
		q := inv.Query
		msg := strings.Join(inv.Problems[:min(len(inv.Problems), 3)], "; ")
		if len(inv.Problems) > 3 {
			msg += fmt.Sprintf("; and %d more (run metricgate validate)", len(inv.Problems)-3)
		}
		// One failed query run per source of its role, so that each
		// source's status shows the broken file.
		names := r.sourcesOf(q.Source)
		if len(names) == 0 {
			names = []string{q.Source}
		}
		for _, name := range names {
			now := r.now()
			res.Queries = append(res.Queries, r.record(ctx, log, history.QueryRun{RunID: id, Query: q.Name, Target: q.Target,
				Source: name, SHA256: q.SHA256, Status: history.QueryFailed, Error: "invalid query file: " + msg,
				StartedAt: now, FinishedAt: now}, true))
		}
	}
	if slices.ContainsFunc(res.Queries, func(q history.QueryRun) bool { return q.Error == CancelledByShutdown }) {
		runErrs = append(runErrs, CancelledByShutdown)
	}
	if lost := gate.lost(); lost != "" {
		runErrs = append(runErrs, lost)
	}
	res.Transient = make([]bool, len(res.Queries))
	for i := range res.Queries {
		res.Transient[i] = transient[i]
	}
	res.Status = runStatus(res.Queries)
	if len(runErrs) > 0 && res.Status == history.RunSucceeded {
		res.Status = history.RunFailed
	}
	res.Error = strings.Join(runErrs, "; ")
	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.rec.FinishRun(finishCtx, id, res.Status, res.Error, r.now()); err != nil {
		return res, fmt.Errorf("finish run %d: %w", id, err)
	}
	log.Info("run finished", slog.String("status", string(res.Status)), slog.Duration("duration", r.now().Sub(started)))
	return res, nil
}

// runStatus is succeeded when no query failed, partial when some failed and
// some succeeded, failed when queries failed and none succeeded.
func runStatus(qs []history.QueryRun) history.RunStatus {
	var ok, failed int
	for _, q := range qs {
		switch q.Status {
		case history.QuerySucceeded:
			ok++
		case history.QueryFailed:
			failed++
		}
	}
	switch {
	case failed == 0:
		return history.RunSucceeded
	case ok > 0:
		return history.RunPartial
	}
	return history.RunFailed
}

// job is one query of a run on its way through a source's workers.
type job struct {
	index    int
	query    *catalog.Query
	analysis *guard.Analysis
	qr       history.QueryRun
	// transient: it failed for a reason that may pass (Result.Transient).
	transient bool
}

// gate decides whether a run may start another query: not after the
// shutdown's Stop, not once the run lock is lost (Options.Held).
type gate struct {
	stop <-chan struct{}
	held func(ctx context.Context) error
	mu   sync.Mutex
	err  string // the lost lock's error, once seen
}

func newGate(opts Options) *gate { return &gate{stop: opts.Stop, held: opts.Held} }

// closed returns why no more queries may start, "" when they may.
func (g *gate) closed(ctx context.Context) string {
	if stopping(g.stop) {
		return CancelledByShutdown
	}
	if g.held == nil {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == "" {
		if err := g.held(ctx); err != nil {
			g.err = err.Error()
		}
	}
	return g.err
}

// lost returns the lost lock's error, "" when it was not lost.
func (g *gate) lost() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// record writes a query run to the history: a new record when insert, else
// the final state of one started before. A history failure is logged: the
// warehouse already holds the result, and the run's record says what it can.
func (r *Runner) record(ctx context.Context, log *slog.Logger, qr history.QueryRun, insert bool) history.QueryRun {
	if qr.Status == history.QueryFailed && errors.Is(context.Cause(ctx), ErrShuttingDown) {
		qr.Error = CancelledByShutdown
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if qr.FinishedAt.After(qr.StartedAt) {
		qr.Duration = qr.FinishedAt.Sub(qr.StartedAt)
	}
	var err error
	if insert {
		qr.ID, err = r.rec.StartQueryRun(ctx, qr)
	} else {
		err = r.rec.FinishQueryRun(ctx, qr)
	}
	if err != nil {
		log.Error("record query run", slog.String("query", qr.Query), slog.String("error", err.Error()))
	}
	if qr.Status != history.QueryRunning {
		level := slog.LevelInfo
		if qr.Status == history.QueryFailed {
			level = slog.LevelError
		}
		if qr.Error == CancelledByShutdown { // not an error: the process was asked to stop
			level = slog.LevelWarn
		}
		log.LogAttrs(ctx, level, "query "+string(qr.Status),
			slog.String("query", qr.Query), slog.String("source", qr.Source),
			slog.Int64("rows", qr.RowsLoaded), slog.String("suppressed", qr.RowsSuppressed.String()),
			slog.String("cells_suppressed", qr.CellsSuppressed.String()),
			slog.Int("attempts", qr.Attempts), slog.Duration("duration", qr.Duration),
			slog.String("error", qr.Error))
	}
	return qr
}

// runSource runs jobs on one source: it opens the snapshot, checks the
// source's age, and hands the jobs to the workers. An error means the
// source could not be used at all; every job then carries it as its
// failure. When the snapshot is lost in the middle (the source restarted:
// the exported snapshot dies with the coordinator's session), a fresh one
// is opened, once, for the jobs not done yet; their query runs record its
// time.
func (r *Runner) runSource(ctx context.Context, log *slog.Logger, runID int64, name string, jobs []*job, g *gate, slots chan struct{}) error {
	src := r.cfg.Sources[name]
	log = log.With(slog.String("source", name), slog.String("role", src.Role))
	fail := func(err error) error {
		for _, j := range jobs {
			j.qr.Status, j.qr.Error, j.qr.FinishedAt = history.QueryFailed, err.Error(), r.now()
			j.transient = true // the source may be back later
			j.qr = r.record(ctx, log, j.qr, true)
		}
		return err
	}
	timeouts := time.Duration(0)
	for _, j := range jobs {
		timeouts += j.query.Timeout
	}
	snaps := &snapshots{r: r, src: src, name: name, log: log, appName: r.appName(runID, "coordinator"),
		idle: timeouts + 10*time.Minute}
	snap, err := snaps.open(ctx)
	if err != nil {
		return fail(err)
	}
	defer snaps.close(ctx)

	queue := make(chan *job)
	var wg sync.WaitGroup
	for w := range min(r.cfg.Workers, len(jobs)) {
		wg.Go(func() {
			wk := &worker{r: r, src: src, snaps: snaps, snap: snap, appName: r.appName(runID, fmt.Sprintf("worker %d", w+1))}
			defer wk.close(ctx)
			for j := range queue {
				held := false
				select {
				case slots <- struct{}{}: // a slot of the run's budget
					held = true
				case <-ctx.Done():
				}
				func() {
					defer func() {
						if held {
							<-slots
						}
					}()
					if reason := g.closed(ctx); reason != "" {
						j.qr.Status, j.qr.Error, j.qr.FinishedAt = history.QueryFailed, reason, r.now()
						j.transient = reason != CancelledByShutdown
						j.qr = r.record(ctx, log, j.qr, true)
						return
					}
					wk.snap = snaps.current()
					j.qr.Status, j.qr.StartedAt, j.qr.SnapshotTime = history.QueryRunning, r.now(), wk.snap.AsOf
					j.qr = r.record(ctx, log, j.qr, true)
					wk.run(ctx, log, runID, name, j)
					j.qr.FinishedAt = r.now()
					j.qr = r.record(ctx, log, j.qr, false)
				}()
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	return nil
}

// snapshots are a source's snapshots during a run: the one opened first,
// and at most one more, opened when the first is lost.
type snapshots struct {
	r       *Runner
	src     Source
	name    string
	log     *slog.Logger
	appName string
	idle    time.Duration

	mu      sync.Mutex
	cur     *snapshot.Coordinator
	renewed bool // a source gets one fresh snapshot per run
	old     []*snapshot.Coordinator
}

// open opens a snapshot, checks the source's age in it and makes it the
// current one. The caller holds mu, or is the only one using s.
func (s *snapshots) open(ctx context.Context) (*snapshot.Coordinator, error) {
	snap, err := snapshot.Open(ctx, snapshot.Config{URL: s.src.URL, ApplicationName: s.appName, AsOf: s.src.AsOf,
		Idle: s.idle, MaxAge: s.src.MaxAge, Name: s.name, Now: s.r.now, Seal: newSealer(s.src).snapshotSeal()})
	var stale *snapshot.StaleError
	if err != nil && !errors.As(err, &stale) { // a stale source's refusal names it already
		err = fmt.Errorf("source %s: %w", s.name, err)
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("snapshot exported", slog.String("snapshot", snap.ID), slog.Time("as_of", snap.AsOf))
	if s.cur != nil {
		s.old = append(s.old, s.cur)
	}
	s.cur = snap
	return snap, nil
}

func (s *snapshots) current() *snapshot.Coordinator {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// renew returns the snapshot to use instead of lost: the one another
// worker opened already, or a fresh one (the other workers wait for it).
// ok is false when the run has had its snapshots, or a fresh one cannot be
// opened (which is logged).
func (s *snapshots) renew(ctx context.Context, lost *snapshot.Coordinator) (*snapshot.Coordinator, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != lost {
		return s.cur, true
	}
	if s.renewed {
		return nil, false
	}
	s.renewed = true
	s.log.Warn("the run's snapshot is lost (the source restarted?): opening a fresh one for the queries not done yet",
		slog.String("snapshot", lost.ID))
	backoff := s.r.cfg.Backoff
	for attempt := 1; ; attempt++ {
		snap, err := s.open(ctx)
		if err == nil {
			return snap, true
		}
		if !transient(err) || attempt >= s.r.cfg.Attempts || ctx.Err() != nil {
			s.log.Error("open a fresh snapshot", slog.String("error", err.Error()))
			return nil, false
		}
		select { // the source may still be starting
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (s *snapshots) close(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, snap := range append(s.old, s.cur) {
		if snap != nil {
			snap.Close(ctx)
		}
	}
}

func (r *Runner) appName(runID int64, role string) string {
	return fmt.Sprintf("%s run %d %s", r.cfg.ApplicationName, runID, role)
}
