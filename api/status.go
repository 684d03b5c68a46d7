package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/redact"
	"gitlab.com/metricgate/metricgate/schedule"
)

// Run is a run as the API shows it.
type Run struct {
	ID              int64      `json:"id"`
	Trigger         string     `json:"trigger"`
	Approval        string     `json:"approval"`
	Status          string     `json:"status"`
	Error           string     `json:"error,omitempty"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`
	Queries         int        `json:"queries"`
	Succeeded       int        `json:"succeeded"`
	Failed          int        `json:"failed"`
	Skipped         int        `json:"skipped"`
}

func runOf(r history.Run, now time.Time) Run {
	end := cmp.Or(r.FinishedAt, now)
	return Run{ID: r.ID, Trigger: r.Trigger, Approval: r.Approval, Status: string(r.Status), Error: r.Error,
		StartedAt: r.StartedAt, FinishedAt: timePtr(r.FinishedAt), DurationSeconds: max(end.Sub(r.StartedAt), 0).Seconds(),
		Queries: r.Queries, Succeeded: r.Succeeded, Failed: r.Failed, Skipped: r.Skipped}
}

// QueryRun is a query's run as the API shows it.
type QueryRun struct {
	ID              int64      `json:"id"`
	RunID           int64      `json:"run_id"`
	Query           string     `json:"query"`
	Target          string     `json:"target"`
	Source          string     `json:"source"`
	Status          string     `json:"status"`
	Error           string     `json:"error,omitempty"`
	RowsLoaded      int64      `json:"rows_loaded"`
	RowsSuppressed  string     `json:"rows_suppressed"`  // a decade: "0", "1-9", "10-99", …
	CellsSuppressed string     `json:"cells_suppressed"` // a decade, as RowsSuppressed
	Attempts        int        `json:"attempts"`
	Cost            float64    `json:"cost"`
	SHA256          string     `json:"sha256"`
	Commit          string     `json:"commit,omitempty"`
	Approval        string     `json:"approval"`
	SnapshotTime    *time.Time `json:"snapshot_time"`
	StartedAt       *time.Time `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`
}

func queryRunOf(q history.QueryRun) QueryRun {
	return QueryRun{ID: q.ID, RunID: q.RunID, Query: q.Query, Target: q.Target, Source: q.Source,
		Status: string(q.Status), Error: q.Error, RowsLoaded: q.RowsLoaded,
		RowsSuppressed: q.RowsSuppressed.String(), CellsSuppressed: q.CellsSuppressed.String(),
		Attempts: q.Attempts, Cost: q.Cost, SHA256: q.SHA256, Commit: q.Commit, Approval: q.Approval,
		SnapshotTime: timePtr(q.SnapshotTime), StartedAt: timePtr(q.StartedAt), FinishedAt: timePtr(q.FinishedAt),
		DurationSeconds: q.Duration.Seconds()}
}

// Dump is a dump as the API shows it.
type Dump struct {
	ID           int64      `json:"id"`
	Group        string     `json:"group"`
	Status       string     `json:"status"`
	Error        string     `json:"error,omitempty"`
	Location     string     `json:"location"`
	SnapshotTime *time.Time `json:"snapshot_time"`
	Tables       int        `json:"tables"`
	Files        int        `json:"files"`
	Rows         int64      `json:"rows"`
	Bytes        int64      `json:"bytes"`
	ConfigSHA256 string     `json:"config_sha256"`
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
}

func dumpOf(d history.Dump) Dump {
	return Dump{ID: d.ID, Group: d.Group, Status: string(d.Status), Error: d.Error, Location: d.Location,
		SnapshotTime: timePtr(d.SnapshotTime), Tables: d.Tables, Files: d.Files, Rows: d.Rows, Bytes: d.Bytes,
		ConfigSHA256: d.ConfigSHA256, StartedAt: d.StartedAt, FinishedAt: timePtr(d.FinishedAt)}
}

// DumpLoad is a load of a dump as the API shows it.
type DumpLoad struct {
	ID           int64      `json:"id"`
	Location     string     `json:"location"`
	Status       string     `json:"status"`
	Error        string     `json:"error,omitempty"`
	SnapshotTime *time.Time `json:"snapshot_time"`
	Tables       int        `json:"tables"`
	Rows         int64      `json:"rows"`
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
}

func dumpLoadOf(l history.DumpLoad) DumpLoad {
	return DumpLoad{ID: l.ID, Location: l.Location, Status: string(l.Status), Error: l.Error,
		SnapshotTime: timePtr(l.SnapshotTime), Tables: l.Tables, Rows: l.Rows, StartedAt: l.StartedAt,
		FinishedAt: timePtr(l.FinishedAt)}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// States of the whole service, a query or a dump.
const (
	StateOK      = "ok"      // everything fresh, nothing failing
	StateStale   = "stale"   // data older than its schedule allows
	StateFailing = "failing" // the newest attempt failed
	StatePending = "pending" // never ran yet, or never approved: nothing to be stale
	StateRunning = "running" // running now (freshness still counts)
)

// Status is GET /api/v1/status: the service's state, and every query's
// and dump's freshness. The HTTP status is 503 when Stale or Failing.
type Status struct {
	// State is ok, stale or failing (failing wins).
	State   string `json:"state"`
	Stale   bool   `json:"stale"`
	Failing bool   `json:"failing"`
	// Problems lists what makes the state not ok, one line each.
	Problems []string      `json:"problems"`
	Approval string        `json:"approval"`
	Schedule string        `json:"schedule"`
	LastRun  *Run          `json:"last_run"`
	NextRun  time.Time     `json:"next_run"`
	Queries  []QueryStatus `json:"queries"`
	Dumps    []DumpStatus  `json:"dumps"`
	// Sources are the configured source databases (never their URLs).
	Sources     []Source  `json:"sources"`
	GeneratedAt time.Time `json:"generated_at"`
	Version     string    `json:"version"`
	Config      []Setting `json:"config"`
	// LastTickError says why the newest tick's run could not start (the
	// history database unreachable, …) while it is being tried again;
	// absent otherwise. It makes the state failing.
	LastTickError *TickError `json:"last_tick_error,omitempty"`
	// SLOWindowSeconds is the window of every slo_attainment (30 days by
	// default).
	SLOWindowSeconds float64 `json:"slo_window_seconds"`
	// JobErrors are the scheduled dumps and loads whose newest tick
	// failed; absent when none did. Each makes the state failing.
	JobErrors []Job `json:"job_errors,omitempty"`
}

// TickError is a tick whose run could not start, as the status shows it.
type TickError struct {
	Tick     time.Time `json:"tick"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
	RetryAt  time.Time `json:"retry_at"`
}

// Source is a configured source database as the status lists it: its
// name, role and cell, never its URL.
type Source struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Cell string `json:"cell,omitempty"`
}

// SourceStatus is the freshness of a query's data from one source.
type SourceStatus struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Cell string `json:"cell,omitempty"`
	// Status is ok, stale, failing, pending or running.
	Status  string `json:"status"`
	Stale   bool   `json:"stale"`
	Failing bool   `json:"failing"`
	// LastSuccess is when the newest successful load from this source
	// finished; SnapshotTime the as-of time of the data it loaded.
	LastSuccess  *time.Time `json:"last_success"`
	SnapshotTime *time.Time `json:"snapshot_time"`
	// Error is the newest run's error, or why the state is not ok.
	Error string `json:"error,omitempty"`
	// DataAsOf and AgeSeconds are the data's as-of time and age, as the
	// query's.
	DataAsOf   *time.Time `json:"data_as_of"`
	AgeSeconds float64    `json:"age_seconds"`
	// SLOAttainment is the share of the SLO window (Status.SLOWindowSeconds)
	// during which this source's data was within the objective; null when
	// it never loaded before now.
	SLOAttainment *float64 `json:"slo_attainment"`
}

// QueryStatus is a query's freshness.
type QueryStatus struct {
	Name        string   `json:"name"`
	Area        string   `json:"area"`
	Description string   `json:"description"`
	Owner       string   `json:"owner"`
	Schedule    string   `json:"schedule"`
	Target      string   `json:"target"`
	Tags        []string `json:"tags,omitempty"`
	// Invalid is true when the file has problems: it does not run.
	Invalid bool `json:"invalid,omitempty"`
	// State is ok, stale, failing, pending or running.
	State   string `json:"state"`
	Stale   bool   `json:"stale"`
	Failing bool   `json:"failing"`
	// Reason explains a state that is not ok.
	Reason string `json:"reason,omitempty"`
	// LastSuccess is when the newest successful load finished.
	LastSuccess *time.Time `json:"last_success"`
	// DataAsOf is the as-of time of the source snapshot the newest
	// successful load read (its finish time when none was recorded): the
	// data's age is measured from it (schedule.DataTime).
	DataAsOf *time.Time `json:"data_as_of"`
	// AgeSeconds is the data's age, the time since DataAsOf; MaxAgeSeconds
	// the most it may be before the query is stale (its period plus the
	// grace, schedule.MaxAge).
	AgeSeconds    float64 `json:"age_seconds"`
	MaxAgeSeconds float64 `json:"max_age_seconds"`
	// SLOAttainment is the share of the SLO window during which the data
	// was within the objective (max_age_seconds): the lowest of its
	// sources'; null when it never loaded.
	SLOAttainment *float64 `json:"slo_attainment"`
	// Approval is the newest run's approval ("git <sha>", …).
	Approval string `json:"approval"`
	// LastRun is the newest run of the query, whatever its status and
	// source.
	LastRun *QueryRun `json:"last_run"`
	// Sources is the freshness per source of the query's role: the query
	// is stale or failing when any of them is, and LastSuccess is the
	// oldest of theirs (the table is as fresh as its stalest source).
	Sources []SourceStatus `json:"sources"`
}

// DumpStatus is the freshness of the dumps of a group, or of the loads.
type DumpStatus struct {
	// Kind is "dump" (production side) or "load" (warehouse side).
	Kind string `json:"kind"`
	// Name is the group for a dump, "warehouse" for the loads.
	Name        string     `json:"name"`
	State       string     `json:"state"`
	Stale       bool       `json:"stale"`
	Failing     bool       `json:"failing"`
	Reason      string     `json:"reason,omitempty"`
	LastStatus  string     `json:"last_status"`
	LastSuccess *time.Time `json:"last_success"`
	// DataAsOf is the as-of time of the source snapshot of the newest
	// succeeded dump, or of the dump the newest succeeded load loaded (so
	// a load is exactly as fresh as its dump); AgeSeconds the time since.
	DataAsOf      *time.Time `json:"data_as_of"`
	AgeSeconds    float64    `json:"age_seconds"`
	SLOAttainment *float64   `json:"slo_attainment"`
	MaxAgeSeconds float64    `json:"max_age_seconds"`
	Rows          int64      `json:"rows"`
	Bytes         int64      `json:"bytes,omitempty"`
	Tables        int        `json:"tables"`
	Location      string     `json:"location"`
	// Mode is the newest succeeded (or loaded) dump's kind: full or
	// incremental.
	Mode string `json:"mode,omitempty"`
	// LastFull and LastIncrement are when the newest full dump and the
	// newest increment succeeded (were loaded, for the loads).
	LastFull      *time.Time `json:"last_full,omitempty"`
	LastIncrement *time.Time `json:"last_increment,omitempty"`
}

// historyDepth is how many runs of each query the snapshot keeps: the
// charts of the page show the last 30.
const historyDepth = 30

// snapshot is what the status, the metrics and the page show, computed
// from the history at one time.
type snapshot struct {
	Status  Status
	History map[string][]history.QueryRun // newest first, at most historyDepth
	Dumps   []history.Dump
	Loads   []history.DumpLoad
	Running bool
}

// statusCache computes a snapshot at most once per TTL; concurrent
// requests share one computation.
type statusCache struct {
	a    *API
	mu   sync.Mutex
	snap *snapshot
	at   time.Time
	wait chan struct{} // closed when the computation in flight ends
}

func (c *statusCache) invalidate() {
	c.mu.Lock()
	c.snap = nil
	c.mu.Unlock()
}

func (c *statusCache) get(ctx context.Context) (*snapshot, error) {
	for {
		c.mu.Lock()
		if c.snap != nil && c.a.cfg.CacheTTL > 0 && time.Since(c.at) < c.a.cfg.CacheTTL {
			s := c.snap
			c.mu.Unlock()
			return s, nil
		}
		if c.wait == nil {
			c.wait = make(chan struct{})
			c.mu.Unlock()
			// The computation outlives a client that goes away: others wait for it.
			cctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), 20*time.Second,
				errors.New("compute the status: the history database did not answer within 20s"))
			var s *snapshot
			var err error
			func() {
				defer func() { // also when compute panics: the waiters must not hang
					cancel()
					c.mu.Lock()
					if err == nil && s != nil {
						c.snap, c.at = s, time.Now()
					}
					close(c.wait)
					c.wait = nil
					c.mu.Unlock()
				}()
				s, err = c.a.compute(cctx)
			}()
			return s, err
		}
		wait := c.wait
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		if c.a.cfg.CacheTTL <= 0 {
			// Nothing cached to share: compute for this request.
			s, err := c.a.compute(ctx)
			return s, err
		}
	}
}

// compute reads the history and works out every freshness.
func (a *API) compute(ctx context.Context) (*snapshot, error) {
	now := a.deps.Now().UTC()
	grace := a.cfg.FreshnessGrace
	global := a.deps.Runs.Schedule()
	snap := &snapshot{History: map[string][]history.QueryRun{}}
	st := &snap.Status
	st.Approval, st.Schedule, st.NextRun, st.GeneratedAt = a.cfg.Approval, global.String(), a.deps.Runs.Next(now).UTC(), now
	st.SLOWindowSeconds = a.cfg.SLOWindow.Seconds()
	st.Version, st.Config, st.Queries, st.Dumps, st.Problems = a.cfg.Version, a.cfg.Settings, []QueryStatus{}, []DumpStatus{}, []string{}
	if st.Config == nil {
		st.Config = []Setting{}
	}

	runs, err := a.deps.History.Runs(ctx, 1)
	if err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		r := runOf(runs[0], now)
		st.LastRun = &r
		snap.Running = runs[0].Status == history.RunRunning
		if runs[0].Status == history.RunFailed {
			st.Failing = true
			st.Problems = append(st.Problems, fmt.Sprintf("run %d failed: %s", r.ID, cmp.Or(r.Error, "no query succeeded")))
		}
		if overdue := global.Period() + grace; now.Sub(runs[0].StartedAt) > overdue {
			st.Stale = true
			st.Problems = append(st.Problems, fmt.Sprintf("no run since %s: the schedule %s runs every %s",
				runs[0].StartedAt.Format(time.RFC3339), global, human(global.Period())))
		}
	}

	if e := a.tickError(); e != nil {
		st.LastTickError, st.Failing = e, true
		st.Problems = append(st.Problems, e.problem())
	}

	configured := a.cfg.Sources
	st.Sources = append([]Source{}, configured...)

	var queries []*catalog.Query
	invalid := map[string]bool{}
	if cat := a.deps.Catalog(); cat != nil {
		queries = append(queries, cat.Queries...)
		for _, q := range cat.Invalid {
			queries = append(queries, q)
			invalid[q.Name] = true
		}
	}
	slices.SortFunc(queries, func(x, y *catalog.Query) int { return cmp.Compare(x.Name, y.Name) })
	for _, q := range queries {
		srcs := sourcesOfRole(configured, q.Source)
		// historyDepth runs of each source: the runs of all of them come
		// mixed, newest first.
		hist, err := a.deps.History.QueryHistory(ctx, q.Name, historyDepth*max(len(srcs), 1))
		if err != nil {
			return nil, err
		}
		snap.History[q.Name] = hist
		lasts, err := a.lastSuccesses(ctx, q.Name, hist, historyDepth*max(len(srcs), 1), srcs)
		if err != nil {
			return nil, err
		}
		maxAge := schedule.MaxAge(q.Schedule, global, grace)
		qs := queryStatus(q, invalid[q.Name], hist, lasts, maxAge, now, srcs)
		if err := a.queryAttainment(ctx, &qs, lasts, maxAge, now); err != nil {
			return nil, err
		}
		if qs.Failing {
			st.Failing = true
			st.Problems = append(st.Problems, fmt.Sprintf("query %s is failing: %s", q.Name, oneLine(qs.Reason, 200)))
		}
		if qs.Stale {
			st.Stale = true
			st.Problems = append(st.Problems, fmt.Sprintf("query %s is stale: %s", q.Name, qs.Reason))
		}
		st.Queries = append(st.Queries, qs)
	}

	if snap.Dumps, err = a.deps.History.Dumps(ctx, historyDepth); err != nil {
		return nil, err
	}
	if snap.Loads, err = a.deps.History.DumpLoads(ctx, historyDepth); err != nil {
		return nil, err
	}
	st.JobErrors = a.jobErrors()
	dss := a.dumpStatuses(snap.Dumps, snap.Loads, now)
	if err := a.dumpAttainment(ctx, dss, snap.Dumps, snap.Loads, now); err != nil {
		return nil, err
	}
	for _, ds := range a.withJobErrors(dss, st.JobErrors) {
		if ds.Failing {
			st.Failing = true
			st.Problems = append(st.Problems, fmt.Sprintf("%s %s is failing: %s", ds.Kind, ds.Name, oneLine(ds.Reason, 200)))
		}
		if ds.Stale {
			st.Stale = true
			st.Problems = append(st.Problems, fmt.Sprintf("%s %s is stale: %s", ds.Kind, ds.Name, ds.Reason))
		}
		st.Dumps = append(st.Dumps, ds)
	}
	switch {
	case st.Failing:
		st.State = StateFailing
	case st.Stale:
		st.State = StateStale
	default:
		st.State = StateOK
	}
	return snap, nil
}

// queryAttainment sets the SLO attainment of qs and of each of its
// sources over the window before now (schedule.Attainment); the query's
// is the lowest of its sources'.
func (a *API) queryAttainment(ctx context.Context, qs *QueryStatus, lasts map[string]*history.QueryRun, maxAge time.Duration, now time.Time) error {
	succ, err := cached(a, &a.window.queries, qs.Name, now, func() ([]history.QueryRun, error) {
		return a.deps.History.SuccessesSince(ctx, qs.Name, now.Add(-a.cfg.SLOWindow))
	})
	if err != nil {
		return err
	}
	// The newest success of each source, read afresh, may be newer.
	for _, r := range lasts {
		if !slices.ContainsFunc(succ, func(s history.QueryRun) bool { return s.ID == r.ID }) {
			succ = append(succ, *r)
		}
	}
	bySource := map[string][]schedule.Load{}
	for _, r := range succ {
		bySource[r.Source] = append(bySource[r.Source], schedule.Load{Done: cmp.Or(r.FinishedAt, r.StartedAt), AsOf: schedule.QueryDataTime(r)})
	}
	attain := func(loads []schedule.Load) *float64 {
		if v, ok := schedule.Attainment(loads, maxAge, now.Add(-a.cfg.SLOWindow), now); ok {
			return &v
		}
		return nil
	}
	if len(qs.Sources) == 0 {
		var all []schedule.Load
		for _, l := range bySource {
			all = append(all, l...)
		}
		qs.SLOAttainment = attain(all)
		return nil
	}
	for i := range qs.Sources {
		ss := &qs.Sources[i]
		ss.SLOAttainment = attain(bySource[ss.Name])
		if v := ss.SLOAttainment; v != nil && (qs.SLOAttainment == nil || *v < *qs.SLOAttainment) {
			qs.SLOAttainment = v
		}
	}
	return nil
}

// dumpAttainment sets the SLO attainment of each group's dumps and of the
// loads over the window before now.
func (a *API) dumpAttainment(ctx context.Context, dss []DumpStatus, newestDumps []history.Dump, newestLoads []history.DumpLoad, now time.Time) error {
	if len(dss) == 0 {
		return nil
	}
	since := now.Add(-a.cfg.SLOWindow)
	dumps, err := cached(a, &a.window.dumps, "", now, func() ([]history.Dump, error) {
		return a.deps.History.SucceededDumpsSince(ctx, since)
	})
	if err != nil {
		return err
	}
	loads, err := cached(a, &a.window.loads, "", now, func() ([]history.DumpLoad, error) {
		return a.deps.History.SucceededDumpLoadsSince(ctx, since)
	})
	if err != nil {
		return err
	}
	// The newest ones, read afresh, may be newer than those kept.
	for _, d := range newestDumps {
		if d.Status == history.DumpSucceeded && !slices.ContainsFunc(dumps, func(x history.Dump) bool { return x.ID == d.ID }) {
			dumps = append(dumps, d)
		}
	}
	for _, l := range newestLoads {
		if l.Status == history.DumpSucceeded && !slices.ContainsFunc(loads, func(x history.DumpLoad) bool { return x.ID == l.ID }) {
			loads = append(loads, l)
		}
	}
	for i := range dss {
		ds := &dss[i]
		var ls []schedule.Load
		if ds.Kind == "load" {
			for _, l := range loads {
				ls = append(ls, schedule.Load{Done: cmp.Or(l.FinishedAt, l.StartedAt), AsOf: schedule.DataTime(l.SnapshotTime, l.FinishedAt, l.StartedAt)})
			}
		} else {
			for _, d := range dumps {
				if d.Group == ds.Name {
					ls = append(ls, schedule.Load{Done: cmp.Or(d.FinishedAt, d.StartedAt), AsOf: schedule.DataTime(d.SnapshotTime, d.FinishedAt, d.StartedAt)})
				}
			}
		}
		if v, ok := schedule.Attainment(ls, time.Duration(ds.MaxAgeSeconds*float64(time.Second)), since, now); ok {
			ds.SLOAttainment = &v
		}
	}
	return nil
}

// windowTTL is how long the successes over the SLO window are kept: the
// attainment over 30 days moves slowly, and reading them is the status's
// heaviest query. The newest successes, read at every computation, are
// added to them.
const windowTTL = time.Minute

// windowCache keeps the successes over the SLO window for windowTTL (of
// the API's clock), by query name ("" for the dumps and the loads).
type windowCache struct {
	mu      sync.Mutex
	queries map[string]windowEntry[history.QueryRun]
	dumps   map[string]windowEntry[history.Dump]
	loads   map[string]windowEntry[history.DumpLoad]
}

type windowEntry[T any] struct {
	at   time.Time
	rows []T
}

// cached returns the rows kept in m under key when they are younger than
// windowTTL at now (by the API's clock; whatever Config.CacheTTL says),
// else reads them and keeps them.
func cached[T any](a *API, m *map[string]windowEntry[T], key string, now time.Time, read func() ([]T, error)) ([]T, error) {
	a.window.mu.Lock()
	e, ok := (*m)[key]
	a.window.mu.Unlock()
	if ok && now.Sub(e.at) < windowTTL && !now.Before(e.at) {
		return slices.Clone(e.rows), nil
	}
	rows, err := read()
	if err != nil {
		return nil, err
	}
	a.window.mu.Lock()
	if *m == nil {
		*m = map[string]windowEntry[T]{}
	}
	(*m)[key] = windowEntry[T]{at: now, rows: rows}
	a.window.mu.Unlock()
	return slices.Clone(rows), nil
}

// lastSuccesses returns the newest success of the query on each source,
// by source: from hist (its newest runs, limit of them asked for) when it
// holds one, else from the history's last success per source when hist
// may have left it out (it is full) and a source (of srcs, or named by
// hist when srcs is empty; any when neither) has none in it.
func (a *API) lastSuccesses(ctx context.Context, query string, hist []history.QueryRun, limit int, srcs []Source) (map[string]*history.QueryRun, error) {
	lasts := map[string]*history.QueryRun{}
	for i := range hist {
		if r := &hist[i]; r.Status == history.QuerySucceeded && lasts[r.Source] == nil {
			lasts[r.Source] = r
		}
	}
	if len(hist) < limit {
		return lasts, nil
	}
	missing := len(lasts) == 0
	for _, s := range srcs {
		missing = missing || lasts[s.Name] == nil
	}
	for _, r := range hist {
		missing = missing || lasts[r.Source] == nil
	}
	if !missing {
		return lasts, nil
	}
	older, err := a.deps.History.LastSuccessPerSource(ctx, query)
	if err != nil {
		return nil, err
	}
	for i := range older {
		if r := &older[i]; lasts[r.Source] == nil {
			lasts[r.Source] = r
		}
	}
	return lasts, nil
}

// sourcesOfRole returns the configured sources of role, in order; nil when
// none is configured (or the configuration is not known).
func sourcesOfRole(configured []Source, role string) []Source {
	var out []Source
	for _, s := range configured {
		if s.Role == role {
			out = append(out, s)
		}
	}
	return out
}

// queryStatus works out one query's state from its newest runs (hist,
// newest first, of every source) and its last success on each source,
// per source of its role (srcs; when none is configured, the sources its
// runs name) and for the query as a whole: failing when a source is
// failing, stale when one is stale, running when one runs, pending when
// all are, ok otherwise.
func queryStatus(q *catalog.Query, invalid bool, hist []history.QueryRun, lasts map[string]*history.QueryRun, maxAge time.Duration, now time.Time, srcs []Source) QueryStatus {
	if len(srcs) == 0 {
		for _, r := range hist {
			if !slices.ContainsFunc(srcs, func(s Source) bool { return s.Name == r.Source }) {
				srcs = append(srcs, Source{Name: r.Source, Role: q.Source})
			}
		}
		slices.SortFunc(srcs, func(x, y Source) int { return cmp.Compare(x.Name, y.Name) })
	}
	var last *history.QueryRun // the newest success, of any source
	for _, r := range lasts {
		if last == nil || r.ID > last.ID {
			last = r
		}
	}
	qs := freshnessOf(q, invalid, hist, last, maxAge, now)
	qs.Sources = []SourceStatus{}
	if len(srcs) == 0 {
		return qs
	}
	var per []QueryStatus
	for _, src := range srcs {
		var h []history.QueryRun
		for _, r := range hist {
			if r.Source == src.Name {
				h = append(h, r)
			}
		}
		ls := lasts[src.Name]
		ps := freshnessOf(q, invalid, h, ls, maxAge, now)
		ss := SourceStatus{Name: src.Name, Role: src.Role, Cell: src.Cell, Status: ps.State, Stale: ps.Stale,
			Failing: ps.Failing, LastSuccess: ps.LastSuccess, Error: ps.Reason, DataAsOf: ps.DataAsOf, AgeSeconds: ps.AgeSeconds}
		if ls != nil {
			ss.SnapshotTime = timePtr(ls.SnapshotTime)
		}
		if ps.State == StatePending && len(h) == 0 {
			ss.Error = "never ran on this source"
		}
		qs.Sources = append(qs.Sources, ss)
		per = append(per, ps)
	}
	if len(per) == 1 {
		// One source: its state is the query's, as before there were several.
		p := per[0]
		qs.State, qs.Stale, qs.Failing, qs.Reason, qs.LastSuccess, qs.DataAsOf, qs.AgeSeconds = p.State, p.Stale, p.Failing, p.Reason, p.LastSuccess, p.DataAsOf, p.AgeSeconds
		return qs
	}
	qs.Stale, qs.Failing, qs.Reason, qs.LastSuccess, qs.DataAsOf, qs.AgeSeconds = false, false, "", nil, nil, 0
	var reasons []string
	pending, running := 0, false
	for i, p := range per {
		qs.Stale = qs.Stale || p.Stale
		qs.Failing = qs.Failing || p.Failing
		running = running || p.State == StateRunning
		if p.State == StatePending {
			pending++
		}
		if p.Reason != "" && p.State != StateOK && p.State != StatePending {
			r := p.Reason
			if prefix := "source " + srcs[i].Name + ": "; !strings.HasPrefix(r, prefix) {
				r = prefix + r // a failure of the source as a whole names it already
			}
			reasons = append(reasons, r)
		}
		if p.LastSuccess != nil && (qs.LastSuccess == nil || p.LastSuccess.Before(*qs.LastSuccess)) {
			qs.LastSuccess = p.LastSuccess
		}
		if p.DataAsOf != nil && (qs.DataAsOf == nil || p.DataAsOf.Before(*qs.DataAsOf)) {
			qs.DataAsOf, qs.AgeSeconds = p.DataAsOf, p.AgeSeconds
		}
	}
	switch {
	case qs.Failing:
		qs.State = StateFailing
	case qs.Stale:
		qs.State = StateStale
	case running:
		qs.State = StateRunning
	case pending == len(per):
		qs.State, qs.Reason = StatePending, per[0].Reason
	default:
		qs.State = StateOK
	}
	if qs.Reason == "" {
		qs.Reason = strings.Join(reasons, "; ")
	}
	return qs
}

// freshnessOf works out a query's state from runs (newest first) and the
// last success among them.
func freshnessOf(q *catalog.Query, invalid bool, hist []history.QueryRun, last *history.QueryRun, maxAge time.Duration, now time.Time) QueryStatus {
	qs := QueryStatus{Name: q.Name, Area: q.Area, Description: q.Description, Owner: q.Owner,
		Schedule: q.Schedule.String(), Target: q.Target, Tags: q.Tags, Invalid: invalid,
		MaxAgeSeconds: maxAge.Seconds(), State: StateOK}
	if len(hist) > 0 {
		r := queryRunOf(hist[0])
		qs.LastRun, qs.Approval = &r, hist[0].Approval
	}
	if last != nil {
		at := cmp.Or(last.FinishedAt, last.StartedAt)
		asOf := schedule.QueryDataTime(*last)
		qs.LastSuccess, qs.DataAsOf = &at, &asOf
		age := schedule.Age(asOf, now)
		qs.AgeSeconds = age.Seconds()
		if schedule.Stale(asOf, maxAge, now) {
			qs.Stale, qs.State = true, StateStale
			qs.Reason = fmt.Sprintf("last loaded %s ago, data %s old; %s allows %s", human(schedule.Age(at, now)), human(age), qs.Schedule, human(maxAge))
		}
	}
	switch {
	case len(hist) == 0:
		qs.State, qs.Reason = StatePending, "never ran"
	case hist[0].Status == history.QueryFailed:
		qs.Failing, qs.State, qs.Reason = true, StateFailing, hist[0].Error
	case hist[0].Status == history.QueryRunning && !qs.Stale:
		qs.State = StateRunning
	case hist[0].Status == history.QuerySkipped && last == nil:
		qs.State, qs.Reason = StatePending, "skipped: "+hist[0].Error
	case hist[0].Status == history.QuerySkipped && !qs.Stale:
		qs.Reason = "last run skipped: " + hist[0].Error
	}
	return qs
}

// dumpStatuses works out the freshness of each group's dumps and of the
// loads into the warehouse. With no dump or load in the history there is
// nothing to be stale.
func (a *API) dumpStatuses(dumps []history.Dump, loads []history.DumpLoad, now time.Time) []DumpStatus {
	maxAge := cmp.Or(a.cfg.DumpFreshnessSLO, a.cfg.DumpPeriod+a.cfg.FreshnessGrace)
	var out []DumpStatus
	var groups []string
	for _, d := range dumps {
		if !slices.Contains(groups, d.Group) {
			groups = append(groups, d.Group)
		}
	}
	slices.Sort(groups)
	for _, g := range groups {
		ds := DumpStatus{Kind: "dump", Name: g, State: StateOK, MaxAgeSeconds: maxAge.Seconds()}
		newest := true
		for _, d := range dumps {
			if d.Group != g {
				continue
			}
			if newest {
				newest = false
				ds.LastStatus = string(d.Status)
				if d.Status == history.DumpFailed {
					ds.Failing, ds.State, ds.Reason = true, StateFailing, d.Error
				}
			}
			if d.Status == history.DumpSucceeded && ds.LastSuccess == nil {
				at, asOf := cmp.Or(d.FinishedAt, d.StartedAt), schedule.DataTime(d.SnapshotTime, d.FinishedAt, d.StartedAt)
				ds.LastSuccess, ds.DataAsOf, ds.Rows, ds.Bytes, ds.Tables, ds.Location = &at, &asOf, d.Rows, d.Bytes, d.Tables, d.Location
				ds.Mode = string(cmp.Or(d.Kind, history.DumpFull))
			}
			if d.Status == history.DumpSucceeded {
				at := cmp.Or(d.FinishedAt, d.StartedAt)
				lastOfKind(&ds, d.Kind, at)
			}
		}
		freshness(&ds, maxAge, now)
		out = append(out, ds)
	}
	if len(loads) > 0 {
		ds := DumpStatus{Kind: "load", Name: "warehouse", State: StateOK, MaxAgeSeconds: maxAge.Seconds(),
			LastStatus: string(loads[0].Status)}
		if loads[0].Status == history.DumpFailed {
			ds.Failing, ds.State, ds.Reason = true, StateFailing, loads[0].Error
		}
		for _, l := range loads {
			if l.Status == history.DumpSucceeded && ds.LastSuccess == nil {
				// The warehouse holds data as old as the loaded dump's
				// snapshot: measured as the dump's is (schedule.DataTime).
				at, asOf := cmp.Or(l.FinishedAt, l.StartedAt), schedule.DataTime(l.SnapshotTime, l.FinishedAt, l.StartedAt)
				ds.LastSuccess, ds.DataAsOf, ds.Rows, ds.Tables, ds.Location = &at, &asOf, l.Rows, l.Tables, l.Location
				ds.Mode = string(cmp.Or(l.Kind, history.DumpFull))
			}
			if l.Status == history.DumpSucceeded {
				lastOfKind(&ds, l.Kind, cmp.Or(l.FinishedAt, l.StartedAt))
			}
		}
		freshness(&ds, maxAge, now)
		out = append(out, ds)
	}
	return out
}

// jobs are the scheduled jobs, cleaned for showing: one line, no
// address; sorted by kind and name.
func (a *API) jobs() []Job {
	if a.deps.Jobs == nil {
		return nil
	}
	var out []Job
	for _, j := range a.deps.Jobs.Jobs() {
		j.Error, j.At = oneLine(redact.String(j.Error), 500), j.At.UTC()
		out = append(out, j)
	}
	slices.SortFunc(out, func(x, y Job) int { return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name)) })
	return out
}

// jobErrors are the scheduled jobs whose newest tick failed.
func (a *API) jobErrors() []Job {
	var out []Job
	for _, j := range a.jobs() {
		if j.Error != "" {
			out = append(out, j)
		}
	}
	return out
}

// withJobErrors marks the dumps and loads whose scheduled job's newest
// tick failed as failing, with that failure as the reason, adding the
// ones the history has no record of (the job never got as far).
func (a *API) withJobErrors(dss []DumpStatus, errs []Job) []DumpStatus {
	for _, e := range errs {
		i := slices.IndexFunc(dss, func(ds DumpStatus) bool { return ds.Kind == e.Kind && ds.Name == e.Name })
		if i < 0 {
			dss = append(dss, DumpStatus{Kind: e.Kind, Name: e.Name, LastStatus: string(history.DumpFailed)})
			i = len(dss) - 1
		}
		ds := &dss[i]
		ds.Failing, ds.State, ds.Reason = true, StateFailing, e.reason()
	}
	return dss
}

// reason says why j fails, as its dump's or load's reason.
func (j Job) reason() string {
	return fmt.Sprintf("the scheduled %s failed (%d in a row, last at %s): %s", j.Kind, j.Failures, j.At.Format(time.RFC3339), j.Error)
}

// problem says why j fails, in one line of the problems.
func (j Job) problem() string { return j.Kind + " " + j.Name + " is failing: " + j.reason() }

// lastOfKind notes at as the newest full dump or increment, whichever
// kind is, unless a newer one was noted (dumps come newest first).
func lastOfKind(ds *DumpStatus, kind history.DumpKind, at time.Time) {
	if kind == history.DumpIncremental {
		if ds.LastIncrement == nil {
			ds.LastIncrement = &at
		}
	} else if ds.LastFull == nil {
		ds.LastFull = &at
	}
}

func freshness(ds *DumpStatus, maxAge time.Duration, now time.Time) {
	if ds.LastSuccess == nil {
		if !ds.Failing {
			ds.State, ds.Reason = StatePending, "never succeeded"
		}
		return
	}
	age := schedule.Age(*ds.DataAsOf, now)
	ds.AgeSeconds = age.Seconds()
	if schedule.Stale(*ds.DataAsOf, maxAge, now) {
		ds.Stale = true
		if !ds.Failing {
			ds.State, ds.Reason = StateStale, fmt.Sprintf("last success %s ago, data %s old; allowed %s",
				human(schedule.Age(*ds.LastSuccess, now)), human(age), human(maxAge))
		}
	}
}

// human prints a duration the way people say it: 26h, 3d 4h, 45m, 12s.
func human(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// oneLine folds s onto one line of at most n characters.
func oneLine(s string, n int) string {
	out := []rune{}
	space := false
	for _, r := range s {
		if r == '\n' || r == '\t' || r == '\r' || r == ' ' {
			space = true
			continue
		}
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		out = append(out, r)
	}
	if len(out) > n {
		return string(out[:n-1]) + "…"
	}
	return string(out)
}
