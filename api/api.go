package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/redact"
	"gitlab.com/metricgate/metricgate/schedule"
)

// History is what the API reads of the run history (*history.Store).
type History interface {
	Ping(ctx context.Context) error
	Runs(ctx context.Context, limit int) ([]history.Run, error)
	Run(ctx context.Context, id int64) (history.Run, error)
	QueryRuns(ctx context.Context, runID int64) ([]history.QueryRun, error)
	QueryHistory(ctx context.Context, query string, limit int) ([]history.QueryRun, error)
	LastSuccessPerSource(ctx context.Context, query string) ([]history.QueryRun, error)
	// SuccessesSince, SucceededDumpsSince and SucceededDumpLoadsSince are
	// the successes over the SLO window (and the newest one before it).
	SuccessesSince(ctx context.Context, query string, since time.Time) ([]history.QueryRun, error)
	SucceededDumpsSince(ctx context.Context, since time.Time) ([]history.Dump, error)
	SucceededDumpLoadsSince(ctx context.Context, since time.Time) ([]history.DumpLoad, error)
	Dumps(ctx context.Context, limit int) ([]history.Dump, error)
	DumpLoads(ctx context.Context, limit int) ([]history.DumpLoad, error)
}

// Runs starts runs and knows the schedule (*runner.Scheduler).
type Runs interface {
	// Trigger starts a run of the named queries (all when names is empty)
	// and returns its id; schedule.ErrRunInProgress when one is going on.
	Trigger(ctx context.Context, trigger string, names []string) (int64, error)
	// TickError says why the newest tick's run could not start: it shows
	// in the status (last_tick_error), in its 503 when the history cannot
	// be read, and in metricgate_scheduler_tick_error.
	TickError() (schedule.TickError, bool)
	// Next is the time of the next scheduled run after now.
	Next(now time.Time) time.Time
	// Schedule is the global run's schedule.
	Schedule() catalog.Schedule
}

// Jobs are serve's scheduled jobs besides the runs: the dumps and loads
// of dump.schedule. A job whose newest tick failed shows in the status
// (job_errors, a problem, the dump's or load's state failing), on the
// page and in metricgate_dump_tick_error, also when the failure left no
// record in the history (the dump could not start, the history is down).
type Jobs interface {
	// Jobs returns every scheduled job and how its newest tick went.
	Jobs() []Job
}

// Job is a scheduled job and how its newest tick went.
type Job struct {
	// Kind is "dump" or "load", Name the group or "warehouse", as in
	// DumpStatus.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Error is why the newest tick failed, on one line, without
	// addresses; empty when it succeeded (or none ran yet).
	Error string `json:"error"`
	// At is when the newest tick ended; Failures counts the failed ticks
	// in a row.
	At       time.Time `json:"at"`
	Failures int       `json:"failures"`
}

// Setting is one configuration value shown by the status API and page.
// Values are shown as given: the caller hides secrets (passwords in URLs,
// tokens, keys) before.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Config configures the API. Zero values mean the defaults.
type Config struct {
	// Token is the bearer token POST /api/v1/runs requires. Empty refuses
	// to build the API unless AllowUnauthenticatedRuns.
	Token string
	// AllowUnauthenticatedRuns lets anyone who reaches the API trigger runs
	// when no Token is set (development only).
	AllowUnauthenticatedRuns bool
	// ReadToken, when set, is required (as a bearer token, or as the
	// password of HTTP basic authentication, for browsers) by every GET
	// route but /healthz and /readyz.
	ReadToken string
	// Approval is the approval mode in force (none, git, gitlab). With
	// none every response says so. Default "none".
	Approval string
	// FreshnessGrace is added to a query's schedule period (and to the
	// dumps' DumpPeriod) before its data counts as stale. Default 3h.
	FreshnessGrace time.Duration
	// DumpPeriod is how often a dump and a load are expected. Default 24h.
	DumpPeriod time.Duration
	// DumpFreshnessSLO, when set, is how old a dump's (and a load's) data
	// may be before it is stale, in place of DumpPeriod + FreshnessGrace:
	// dump.freshness_slo when serve schedules the dumps.
	DumpFreshnessSLO time.Duration
	// SLOWindow is the window over which SLO attainment is measured: the
	// share of it during which each query's, dump's and load's data was
	// within its objective. Default 30 days.
	SLOWindow time.Duration
	// CacheTTL is how long a computed status is served before it is
	// computed again from the history. Default 1s; negative disables.
	CacheTTL time.Duration
	// Settings are shown in the status (secrets already hidden).
	Settings []Setting
	// Sources are the configured source databases (name, role and cell,
	// never a URL): a source of a query's role that has not run yet is
	// pending, and a source no longer listed no longer counts. Empty: the
	// sources are those the query's runs name.
	Sources []Source
	// Version of metricgate, shown in the status.
	Version string
}

func (c Config) withDefaults() Config {
	c.Approval = cmp.Or(c.Approval, "none")
	c.FreshnessGrace = cmp.Or(c.FreshnessGrace, 3*time.Hour)
	c.DumpPeriod = cmp.Or(c.DumpPeriod, 24*time.Hour)
	c.CacheTTL = cmp.Or(c.CacheTTL, time.Second)
	c.SLOWindow = cmp.Or(c.SLOWindow, 30*24*time.Hour)
	c.Version = cmp.Or(c.Version, "devel")
	return c
}

func (c Config) validate() error {
	if c.Token == "" && !c.AllowUnauthenticatedRuns {
		return errors.New("api.token: not set; POST /api/v1/runs needs it (or set api.allow_unauthenticated_runs: true for development)")
	}
	if c.FreshnessGrace < 0 {
		return fmt.Errorf("api.freshness_grace %s: must be positive", c.FreshnessGrace)
	}
	if c.DumpPeriod < 0 {
		return fmt.Errorf("api dump period %s: must be positive", c.DumpPeriod)
	}
	if c.SLOWindow < 0 {
		return fmt.Errorf("api SLO window %s: must be positive", c.SLOWindow)
	}
	if c.DumpFreshnessSLO < 0 {
		return fmt.Errorf("dump.freshness_slo %s: must be positive", c.DumpFreshnessSLO)
	}
	if c.ReadToken != "" && c.ReadToken == c.Token {
		return errors.New("api.read_token: must differ from api.token")
	}
	return nil
}

// Deps are what the API works with.
type Deps struct {
	History History
	Runs    Runs
	// Catalog returns the query catalog as last loaded (the runs reload
	// it); nil or a nil result means an empty catalog.
	Catalog func() *catalog.Catalog
	// Jobs are the scheduled dumps and loads, when serve makes them
	// (optional).
	Jobs Jobs
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// API is metricgate's HTTP interface: the JSON status API, /metrics and
// the status page. It is an http.Handler.
type API struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	router   chi.Router
	status   *statusCache
	window   windowCache
	reg      *prometheus.Registry
	http     *httpMetrics
	warning  string
	pageTmpl *template.Template

	promHandler http.Handler

	tokenSum, readSum [sha256.Size]byte
	starting          atomic.Pointer[string]
}

// ApprovalNoneWarning is what every response says when approval is none.
const ApprovalNoneWarning = "queries.approval is none: queries run without review; for development and demos only"

// New returns the API, or an error naming the setting that cannot work.
func New(cfg Config, deps Deps) (*API, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("api config: %w", err)
	}
	if deps.History == nil || deps.Runs == nil {
		return nil, errors.New("api: a history and a scheduler are required")
	}
	if deps.Catalog == nil {
		deps.Catalog = func() *catalog.Catalog { return nil }
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	a := &API{cfg: cfg, deps: deps, log: deps.Logger}
	if cfg.Approval == "none" {
		a.warning = ApprovalNoneWarning
	}
	a.tokenSum = sha256.Sum256([]byte(cfg.Token))
	a.readSum = sha256.Sum256([]byte(cfg.ReadToken))
	a.status = &statusCache{a: a}
	a.reg = prometheus.NewRegistry()
	a.http = newHTTPMetrics(a.reg)
	a.reg.MustRegister(&collector{a: a})
	a.promHandler = a.newPromHandler()
	a.pageTmpl = pageTemplate
	a.router = a.routes()
	return a, nil
}

// ServeHTTP serves a request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.router.ServeHTTP(w, r) }

// SetStarting makes every route but /healthz answer 503 with reason (the
// service is starting: waiting for the run lock, migrating); "" ends it.
func (a *API) SetStarting(reason string) {
	if reason == "" {
		a.starting.Store(nil)
		return
	}
	a.starting.Store(&reason)
}

// Invalidate drops the cached status, so that the next request reads the
// history (after a run, say).
func (a *API) Invalidate() { a.status.invalidate() }

// NewServer returns an http.Server for handler on addr with timeouts that
// keep slow or idle clients from holding connections: 5s to send the
// headers, 30s the body, 60s to write the response, 2m idle, 64 KiB of
// headers.
func NewServer(addr string, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Routes are the API's routes, method and pattern: exactly DESIGN.md's.
// api/openapi.yaml documents each (a test checks both ways).
func (a *API) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(a.requestID, a.recoverer, a.common)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		a.error(w, r, http.StatusNotFound, "not_found", "no route "+clip(r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		allowed := a.allowed(r)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		a.error(w, r, http.StatusMethodNotAllowed, "method_not_allowed",
			clip(r.Method)+" is not allowed on "+clip(r.URL.Path)+"; allowed: "+strings.Join(allowed, ", "))
	})
	r.Get("/healthz", a.healthz)
	r.Group(func(r chi.Router) {
		r.Use(a.notStarting)
		r.Get("/readyz", a.readyz)
		r.Post("/api/v1/runs", a.postRun)
		r.Group(func(r chi.Router) {
			r.Use(a.readAuth)
			r.Get("/api/v1/status", a.getStatus)
			r.Get("/api/v1/runs", a.listRuns)
			r.Get("/api/v1/runs/{id}", a.getRun)
			r.Get("/api/v1/queries", a.listQueries)
			r.Get("/api/v1/queries/{name}", a.getQuery)
			r.Get("/api/v1/dumps", a.listDumps)
			r.Get("/metrics", a.metrics)
			r.Get("/", a.page)
		})
	})
	return r
}

// allowed lists the methods the route of r's path answers, for the Allow
// header of a 405 (chi does not tell a custom 405 handler).
func (a *API) allowed(r *http.Request) []string {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if a.router.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
		}
	}
	return out
}

// clip shortens what a client sent (a path, a name) to quote it in a
// message: an error answer is not an echo service.
func clip(s string) string {
	const limit = 100
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit]) + "…"
}

// --- middleware

type ctxKey int

const requestIDKey ctxKey = iota

// RequestIDHeader carries a request's id, both ways.
const RequestIDHeader = "X-Request-Id"

var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID takes the client's X-Request-Id when it is short and plain,
// else makes one, and sends it back.
func (a *API) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !goodRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func requestIDOf(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// recoverer turns a handler's panic into a logged 500 in the JSON error
// shape.
func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler { //nolint:errorlint // a sentinel panic value, compared as net/http does
				panic(p)
			}
			a.log.Error("http handler panicked", slog.String("request_id", requestIDOf(r)),
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("error", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			a.error(w, r, http.StatusInternalServerError, "internal", "internal error (request "+requestIDOf(r)+")")
		}()
		next.ServeHTTP(w, r)
	})
}

// common sets the headers of every response (the approval warning, no
// caching, no sniffing), measures the request and logs it at debug level.
func (a *API) common(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if a.warning != "" {
			h.Set("X-Metricgate-Approval", "none")
			h.Set("Warning", `299 metricgate "`+a.warning+`"`)
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		a.http.observe(r.Method, route, sw.code, d)
		a.log.Debug("http request", slog.String("request_id", requestIDOf(r)), slog.String("method", r.Method),
			slog.String("route", route), slog.Int("status", sw.code), slog.Duration("duration", d))
	})
}

type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// notStarting answers 503 while the service is starting.
func (a *API) notStarting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := a.starting.Load(); reason != nil {
			w.Header().Set("Retry-After", "5")
			a.error(w, r, http.StatusServiceUnavailable, "starting", "starting: "+*reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readAuth requires the read token when one is configured.
func (a *API) readAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.ReadToken != "" {
			tok, ok := credentials(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metricgate", Basic realm="metricgate"`)
				a.error(w, r, http.StatusUnauthorized, "unauthorized", "this route needs api.read_token: Authorization: Bearer TOKEN")
				return
			}
			if !a.matches(tok, a.readSum) && !(a.cfg.Token != "" && a.matches(tok, a.tokenSum)) {
				a.error(w, r, http.StatusForbidden, "forbidden", "wrong token")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// credentials returns the bearer token, or the password of basic
// authentication.
func credentials(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(tok)
		return tok, tok != ""
	}
	if _, pw, ok := r.BasicAuth(); ok && pw != "" {
		return pw, true
	}
	return "", false
}

// matches compares tok with a token by their SHA-256 sums, in constant
// time (and so without leaking the length).
func (a *API) matches(tok string, sum [sha256.Size]byte) bool {
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], sum[:]) == 1
}

// --- responses

// errorBody is the one shape of every error response.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	// LastTickError is on a 503 of GET /api/v1/status when the history
	// cannot be read and the newest tick's run could not start either.
	LastTickError *TickError `json:"last_tick_error,omitempty"`
}

func (a *API) error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	a.json(w, status, errorBody{Error: apiError{Status: status, Code: code, Message: msg, RequestID: requestIDOf(r)}})
}

// json writes v (an object) with status; with approval none, the object
// gets a "warning" member first.
func (a *API) json(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.log.Error("encode response", slog.String("error", err.Error()))
		status, b = http.StatusInternalServerError, []byte(`{"error":{"status":500,"code":"internal","message":"encode response"}}`)
	}
	if a.warning != "" && len(b) > 1 && b[0] == '{' {
		wb, _ := json.Marshal(a.warning)
		sep := []byte(",")
		if b[1] == '}' {
			sep = nil
		}
		b = bytes.Join([][]byte{[]byte(`{"warning":`), wb, sep, b[1:]}, nil)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// --- handlers

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	a.json(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeoutCause(r.Context(), 5*time.Second, errors.New("ping the history database: no answer within 5s"))
	defer cancel()
	if err := a.deps.History.Ping(ctx); err != nil {
		a.log.Warn("readiness check", slog.String("error", err.Error()))
		a.error(w, r, http.StatusServiceUnavailable, "not_ready", "the history database is not reachable")
		return
	}
	a.json(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *API) getStatus(w http.ResponseWriter, r *http.Request) {
	snap, err := a.status.get(r.Context())
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	code := http.StatusOK
	if snap.Status.Stale || snap.Status.Failing {
		code = http.StatusServiceUnavailable
	}
	a.json(w, code, snap.Status)
}

// historyDown answers a route whose read of the history failed: 503 (an
// uptime checker must see it as down, not as a server bug), in the error
// shape, with the newest tick's error when its run could not start (which
// is often why: the same database). err is logged, not answered: it may
// name internals.
func (a *API) historyDown(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	a.log.Error("http request", slog.String("request_id", requestIDOf(r)), slog.String("path", r.URL.Path),
		slog.String("error", err.Error()))
	msg := "the history database cannot be read, so " + unknown(r) + " is unknown for now (request " + requestIDOf(r) + "; see the logs)"
	te := a.tickError()
	if te != nil {
		msg += "; " + te.problem()
	}
	for _, j := range a.jobErrors() {
		msg += "; " + j.problem()
	}
	w.Header().Set("Retry-After", "30")
	a.json(w, http.StatusServiceUnavailable, errorBody{Error: apiError{Status: http.StatusServiceUnavailable,
		Code: "history_unavailable", Message: msg, RequestID: requestIDOf(r), LastTickError: te}})
}

// unknown names what a route of r could not tell, for historyDown.
func unknown(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost:
		return "whether a run may start"
	case strings.HasPrefix(r.URL.Path, "/api/v1/runs"):
		return "the runs"
	case strings.HasPrefix(r.URL.Path, "/api/v1/dumps"):
		return "the dumps"
	case strings.HasPrefix(r.URL.Path, "/api/v1/queries"):
		return "the queries' freshness"
	}
	return "the status"
}

// historyReachable reports whether the history database answers a ping
// within 2s: a failure that is not the history being down is a 500.
func (a *API) historyReachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeoutCause(ctx, 2*time.Second, errors.New("ping the history database: no answer within 2s"))
	defer cancel()
	return a.deps.History.Ping(ctx) == nil
}

// tickError is why the newest tick's run could not start; nil when it
// started.
func (a *API) tickError() *TickError {
	e, ok := a.deps.Runs.TickError()
	if !ok {
		return nil
	}
	return &TickError{Tick: e.Tick.UTC(), Error: oneLine(redact.String(e.Error), 500), Attempts: e.Attempts, At: e.At.UTC(), RetryAt: e.RetryAt.UTC()}
}

// problem says what e means, in one line of the status's problems.
func (e *TickError) problem() string {
	return fmt.Sprintf("the run of the %s tick could not start (%d attempts): %s; trying again at %s",
		e.Tick.Format(time.RFC3339), e.Attempts, oneLine(e.Error, 200), e.RetryAt.Format(time.RFC3339))
}

// internal logs err and answers 500 without its text (which may name
// internals).
func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	a.log.Error("http request", slog.String("request_id", requestIDOf(r)), slog.String("path", r.URL.Path),
		slog.String("error", err.Error()))
	a.error(w, r, http.StatusInternalServerError, "internal", "internal error (request "+requestIDOf(r)+"); see the logs")
}

// limit reads ?limit=N: def when absent, at most max.
func limit(r *http.Request, def, maxN int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("limit %q: must be a whole number from 1 to %d", s, maxN)
	}
	return min(n, maxN), nil
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r, 50, 1000)
	if err != nil {
		a.error(w, r, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	runs, err := a.deps.History.Runs(r.Context(), n)
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	out := make([]Run, len(runs))
	for i, run := range runs {
		out[i] = runOf(run, a.deps.Now())
	}
	a.json(w, http.StatusOK, struct {
		Runs []Run `json:"runs"`
	}{out})
}

func (a *API) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		a.error(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("no run %q: run ids are positive whole numbers", clip(chi.URLParam(r, "id"))))
		return
	}
	run, err := a.deps.History.Run(r.Context(), id)
	if errors.Is(err, history.ErrNotFound) {
		a.error(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("no run %d", id))
		return
	}
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	qrs, err := a.deps.History.QueryRuns(r.Context(), id)
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	out := make([]QueryRun, len(qrs))
	for i, q := range qrs {
		out[i] = queryRunOf(q)
	}
	a.json(w, http.StatusOK, struct {
		Run     Run        `json:"run"`
		Queries []QueryRun `json:"queries"`
	}{runOf(run, a.deps.Now()), out})
}

func (a *API) listQueries(w http.ResponseWriter, r *http.Request) {
	snap, err := a.status.get(r.Context())
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	a.json(w, http.StatusOK, struct {
		Queries []QueryStatus `json:"queries"`
	}{snap.Status.Queries})
}

func (a *API) getQuery(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	n, err := limit(r, 30, 1000)
	if err != nil {
		a.error(w, r, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	snap, err := a.status.get(r.Context())
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	var qs *QueryStatus
	for i := range snap.Status.Queries {
		if snap.Status.Queries[i].Name == name {
			qs = &snap.Status.Queries[i]
		}
	}
	if qs == nil {
		msg := fmt.Sprintf("no query %q in the catalog", clip(name))
		if cat := a.deps.Catalog(); cat != nil {
			if s := cat.Suggest(name); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
		}
		a.error(w, r, http.StatusNotFound, "not_found", msg)
		return
	}
	hist, err := a.deps.History.QueryHistory(r.Context(), name, n)
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	out := make([]QueryRun, len(hist))
	for i, q := range hist {
		out[i] = queryRunOf(q)
	}
	a.json(w, http.StatusOK, struct {
		Query   QueryStatus `json:"query"`
		History []QueryRun  `json:"history"`
	}{*qs, out})
}

func (a *API) listDumps(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r, 30, 1000)
	if err != nil {
		a.error(w, r, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	dumps, err := a.deps.History.Dumps(r.Context(), n)
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	loads, err := a.deps.History.DumpLoads(r.Context(), n)
	if err != nil {
		a.historyDown(w, r, err)
		return
	}
	out := struct {
		Dumps []Dump     `json:"dumps"`
		Loads []DumpLoad `json:"loads"`
	}{make([]Dump, len(dumps)), make([]DumpLoad, len(loads))}
	for i, d := range dumps {
		out.Dumps[i] = dumpOf(d)
	}
	for i, l := range loads {
		out.Loads[i] = dumpLoadOf(l)
	}
	a.json(w, http.StatusOK, out)
}

// maxRunBody bounds POST /api/v1/runs's body.
const maxRunBody = 64 << 10

// RunRequest is POST /api/v1/runs's optional body.
type RunRequest struct {
	// Queries to run; empty or absent runs every query of the catalog.
	Queries []string `json:"queries"`
}

func (a *API) postRun(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Token != "" || !a.cfg.AllowUnauthenticatedRuns {
		tok, ok := credentials(r)
		if !ok || !strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metricgate"`)
			a.error(w, r, http.StatusUnauthorized, "unauthorized", "POST /api/v1/runs needs Authorization: Bearer <api.token>")
			return
		}
		if a.cfg.Token == "" || !a.matches(tok, a.tokenSum) {
			a.error(w, r, http.StatusForbidden, "forbidden", "wrong token")
			return
		}
	}
	var req RunRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRunBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		a.error(w, r, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", maxRunBody))
		return
	case err != nil:
		a.error(w, r, http.StatusBadRequest, "bad_request", "read the body: the request ended early")
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err := dec.Decode(&req)
		if err == nil && dec.More() {
			err = errors.New("more than one JSON value")
		}
		if err == nil {
			// Anything but blanks after the object is an error too.
			if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
				err = errors.New("data after the JSON object")
			}
		}
		if err != nil {
			a.error(w, r, http.StatusBadRequest, "bad_request", "the body must be {\"queries\": [\"name\", …]}: "+clip(err.Error()))
			return
		}
	}
	if cat := a.deps.Catalog(); cat != nil {
		for _, name := range req.Queries {
			if _, ok := cat.Lookup(name); !ok {
				msg := fmt.Sprintf("no query %q in the catalog", clip(name))
				if s := cat.Suggest(name); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				a.error(w, r, http.StatusBadRequest, "unknown_query", msg)
				return
			}
		}
	}
	id, err := a.deps.Runs.Trigger(r.Context(), "api", req.Queries)
	switch {
	case errors.Is(err, schedule.ErrRunInProgress):
		a.error(w, r, http.StatusConflict, "run_in_progress", "a run is in progress (on this replica or another): try again when it has finished")
		return
	case errors.Is(err, schedule.ErrShuttingDown):
		a.error(w, r, http.StatusServiceUnavailable, "shutting_down", "metricgate is shutting down")
		return
	case err != nil && !a.historyReachable(r.Context()):
		// The run lock and the run's record are in the history.
		a.historyDown(w, r, err)
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	a.status.invalidate()
	a.log.Info("run triggered", slog.String("request_id", requestIDOf(r)), slog.Int64("run_id", id),
		slog.Int("queries", len(req.Queries)))
	loc := "/api/v1/runs/" + strconv.FormatInt(id, 10)
	w.Header().Set("Location", loc)
	a.json(w, http.StatusAccepted, struct {
		RunID int64  `json:"run_id"`
		URL   string `json:"url"`
	}{id, loc})
}
