package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gitlab.com/metricgate/metricgate/history"
)

// The metrics of /metrics. Everything but the HTTP figures comes from the
// history at scrape time (through the status cache), so every replica
// reports the same numbers whichever one made the runs.
var (
	descUp              = prometheus.NewDesc("metricgate_status_ok", "1 when nothing is stale or failing (GET /api/v1/status answers 200).", nil, nil)
	descStale           = prometheus.NewDesc("metricgate_stale", "1 when a query's or a dump's data is older than its schedule allows.", nil, nil)
	descFailing         = prometheus.NewDesc("metricgate_failing", "1 when the newest run, a query's newest run, or a dump or load failed.", nil, nil)
	descApprovalNone    = prometheus.NewDesc("metricgate_approval_none", "1 when queries.approval = none: queries run without review.", nil, nil)
	descQueryLastOK     = prometheus.NewDesc("metricgate_query_last_success_timestamp_seconds", "When the query's newest successful load finished (Unix time).", []string{"query"}, nil)
	descQueryAge        = prometheus.NewDesc("metricgate_query_age_seconds", "Age of the query's data: the time since the as-of time of the source snapshot its newest successful load read (of its stalest source).", []string{"query"}, nil)
	descQueryMaxAge     = prometheus.NewDesc("metricgate_query_max_age_seconds", "The age at which the query's data becomes stale: its schedule period plus the grace.", []string{"query"}, nil)
	descQueryStale      = prometheus.NewDesc("metricgate_query_stale", "1 when the query's data is stale.", []string{"query"}, nil)
	descQueryDuration   = prometheus.NewDesc("metricgate_query_last_duration_seconds", "Duration of the query's newest finished run.", []string{"query"}, nil)
	descQueryRows       = prometheus.NewDesc("metricgate_query_last_rows_loaded", "Rows the query's newest finished run loaded into the warehouse.", []string{"query"}, nil)
	descQuerySuppressed = prometheus.NewDesc("metricgate_query_last_rows_suppressed", "Rows the query's newest finished run dropped for being under min_group_size, as the lowest value of their decade (0, 1, 10, 100, …): the exact number is never published.", []string{"query"}, nil)
	descQueryCells      = prometheus.NewDesc("metricgate_query_last_cells_suppressed", "Aggregate cells the query's newest finished run set to NULL for being backed by fewer than min_group_size people, as the lowest value of their decade (0, 1, 10, 100, …).", []string{"query"}, nil)
	descQueryFailures   = prometheus.NewDesc("metricgate_query_consecutive_failures", "Failed runs of the query since its last success (among its newest 30).", []string{"query"}, nil)
	descQueryStatus     = prometheus.NewDesc("metricgate_query_last_status", "1 for the status of the query's newest run.", []string{"query", "status"}, nil)
	descRunStatus       = prometheus.NewDesc("metricgate_run_last_status", "1 for the status of the newest run.", []string{"status"}, nil)
	descRunStart        = prometheus.NewDesc("metricgate_run_last_start_timestamp_seconds", "When the newest run started (Unix time).", nil, nil)
	descRunDuration     = prometheus.NewDesc("metricgate_run_last_duration_seconds", "Duration of the newest run (so far, while it runs).", nil, nil)
	descRunNext         = prometheus.NewDesc("metricgate_run_next_timestamp_seconds", "When the next scheduled run is due (Unix time).", nil, nil)
	descRunning         = prometheus.NewDesc("metricgate_run_in_progress", "1 while a run is in progress (on any replica).", nil, nil)
	descDumpLastOK      = prometheus.NewDesc("metricgate_dump_last_success_timestamp_seconds", "When the newest successful dump (kind dump, per group) or load (kind load) finished.", []string{"kind", "name"}, nil)
	descDumpAge         = prometheus.NewDesc("metricgate_dump_age_seconds", "Age of the data of the newest successful dump, or of the dump the newest successful load loaded: the time since its source snapshot's as-of time.", []string{"kind", "name"}, nil)
	descDumpStale       = prometheus.NewDesc("metricgate_dump_stale", "1 when the newest successful dump or load is older than allowed.", []string{"kind", "name"}, nil)
	descDumpFailing     = prometheus.NewDesc("metricgate_dump_failing", "1 when the newest dump or load failed.", []string{"kind", "name"}, nil)
	descDumpRows        = prometheus.NewDesc("metricgate_dump_last_rows", "Rows of the newest successful dump or load.", []string{"kind", "name"}, nil)
	descDumpBytes       = prometheus.NewDesc("metricgate_dump_last_bytes", "Compressed bytes of the newest successful dump.", []string{"kind", "name"}, nil)
	descDumpTables      = prometheus.NewDesc("metricgate_dump_last_tables", "Tables of the newest successful dump or load.", []string{"kind", "name"}, nil)
	descScrapeError     = prometheus.NewDesc("metricgate_history_scrape_error", "1 when the history could not be read for this scrape.", nil, nil)
	descDataAge         = prometheus.NewDesc("metricgate_data_age_seconds", "Age of the data: the time since the as-of time of the source snapshot it was read from (sources.NAME.as_of), per query (kind query) and source, per group's dumps (kind dump) and for the loads (kind load, name warehouse); for dumps and loads source is the role whose snapshot is recorded (main).", []string{"kind", "name", "source"}, nil)
	descSLOObjective    = prometheus.NewDesc("metricgate_slo_objective_seconds", "The freshness objective: the data age past which a query, a group's dumps or the loads are stale (docs/slo.md).", []string{"kind", "name"}, nil)
	descSLOAttainment   = prometheus.NewDesc("metricgate_slo_attainment_ratio", "Share of the SLO window (metricgate_slo_window_seconds, 30 days by default) during which the data was within its objective, per query and source, per group's dumps and for the loads; absent before the first load.", []string{"kind", "name", "source"}, nil)
	descSLOWindow       = prometheus.NewDesc("metricgate_slo_window_seconds", "The window of metricgate_slo_attainment_ratio.", nil, nil)
	descDumpTickError   = prometheus.NewDesc("metricgate_dump_tick_error", "1 while the newest tick of serve's scheduled dump (kind dump, per group) or load (kind load) failed, 0 after one succeeded; from this replica's dump scheduler, also when the history cannot be read.", []string{"kind", "name"}, nil)
	descDumpTickFails   = prometheus.NewDesc("metricgate_dump_tick_failures", "Failed ticks in a row of serve's scheduled dump or load (this replica's).", []string{"kind", "name"}, nil)
	descTickError       = prometheus.NewDesc("metricgate_scheduler_tick_error", "1 while the run of the newest tick cannot start (the scheduler is trying again; GET /api/v1/status shows last_tick_error), 0 otherwise.", nil, nil)
)

// collector reports the status snapshot as metrics.
type collector struct{ a *API }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descStale, descFailing, descApprovalNone, descQueryLastOK, descQueryAge, descQueryMaxAge, descQueryStale, descQueryDuration, descQueryRows, descQuerySuppressed, descQueryCells, descQueryFailures, descQueryStatus, descRunStatus, descRunStart, descRunDuration, descRunNext, descRunning, descDumpLastOK, descDumpAge, descDumpStale, descDumpFailing, descDumpRows, descDumpBytes, descDumpTables, descScrapeError, descTickError, descDumpTickError, descDumpTickFails, descDataAge, descSLOObjective, descSLOAttainment, descSLOWindow} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := c.a.status.get(ctx)
	gauge(descApprovalNone, b2f(c.a.cfg.Approval == "none"))
	// From the scheduler, not the history: most often the tick's run
	// cannot start because the history cannot be read either.
	gauge(descTickError, b2f(c.a.tickError() != nil))
	for _, j := range c.a.jobs() {
		gauge(descDumpTickError, b2f(j.Error != ""), j.Kind, j.Name)
		gauge(descDumpTickFails, float64(j.Failures), j.Kind, j.Name)
	}
	if err != nil {
		gauge(descScrapeError, 1)
		return
	}
	gauge(descScrapeError, 0)
	st := snap.Status
	gauge(descUp, b2f(!st.Stale && !st.Failing))
	gauge(descStale, b2f(st.Stale))
	gauge(descFailing, b2f(st.Failing))
	gauge(descRunNext, unix(st.NextRun))
	gauge(descRunning, b2f(snap.Running))
	if r := st.LastRun; r != nil {
		for _, s := range []history.RunStatus{history.RunRunning, history.RunSucceeded, history.RunPartial, history.RunFailed} {
			gauge(descRunStatus, b2f(r.Status == string(s)), string(s))
		}
		gauge(descRunStart, unix(r.StartedAt))
		gauge(descRunDuration, r.DurationSeconds)
	}
	gauge(descSLOWindow, st.SLOWindowSeconds)
	for _, q := range st.Queries {
		gauge(descSLOObjective, q.MaxAgeSeconds, "query", q.Name)
		for _, src := range q.Sources {
			if src.DataAsOf != nil {
				gauge(descDataAge, src.AgeSeconds, "query", q.Name, src.Name)
			}
			if src.SLOAttainment != nil {
				gauge(descSLOAttainment, *src.SLOAttainment, "query", q.Name, src.Name)
			}
		}
		gauge(descQueryMaxAge, q.MaxAgeSeconds, q.Name)
		gauge(descQueryStale, b2f(q.Stale), q.Name)
		if q.LastSuccess != nil {
			gauge(descQueryLastOK, unix(*q.LastSuccess), q.Name)
			gauge(descQueryAge, q.AgeSeconds, q.Name)
		}
		hist := snap.History[q.Name]
		fails := 0
		for _, r := range hist {
			if r.Status == history.QuerySucceeded {
				break
			}
			if r.Status == history.QueryFailed {
				fails++
			}
		}
		gauge(descQueryFailures, float64(fails), q.Name)
		if len(hist) > 0 {
			for _, s := range []history.QueryStatus{history.QueryRunning, history.QuerySucceeded, history.QueryFailed, history.QuerySkipped} {
				gauge(descQueryStatus, b2f(hist[0].Status == s), q.Name, string(s))
			}
		}
		for _, r := range hist {
			if r.Status == history.QueryRunning {
				continue
			}
			gauge(descQueryDuration, r.Duration.Seconds(), q.Name)
			gauge(descQueryRows, float64(r.RowsLoaded), q.Name)
			gauge(descQuerySuppressed, float64(r.RowsSuppressed.Low()), q.Name)
			gauge(descQueryCells, float64(r.CellsSuppressed.Low()), q.Name)
			break
		}
	}
	for _, d := range st.Dumps {
		gauge(descSLOObjective, d.MaxAgeSeconds, d.Kind, d.Name)
		if d.DataAsOf != nil {
			gauge(descDataAge, d.AgeSeconds, d.Kind, d.Name, "main")
		}
		if d.SLOAttainment != nil {
			gauge(descSLOAttainment, *d.SLOAttainment, d.Kind, d.Name, "main")
		}
		gauge(descDumpStale, b2f(d.Stale), d.Kind, d.Name)
		gauge(descDumpFailing, b2f(d.Failing), d.Kind, d.Name)
		if d.LastSuccess != nil {
			gauge(descDumpLastOK, unix(*d.LastSuccess), d.Kind, d.Name)
			gauge(descDumpAge, d.AgeSeconds, d.Kind, d.Name)
			gauge(descDumpRows, float64(d.Rows), d.Kind, d.Name)
			gauge(descDumpTables, float64(d.Tables), d.Kind, d.Name)
			if d.Kind == "dump" {
				gauge(descDumpBytes, float64(d.Bytes), d.Kind, d.Name)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// httpMetrics measures the API's own requests.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "metricgate_http_requests_total",
			Help: "HTTP requests served, by method, route and status code."}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "metricgate_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *httpMetrics) observe(method, route string, code int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
	default:
		// A client picks the method: "BREW", "X1", "X2", … would each make
		// a series that /metrics carries forever.
		method = "other"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (a *API) metrics(w http.ResponseWriter, r *http.Request) { a.promHandler.ServeHTTP(w, r) }

func (a *API) newPromHandler() http.Handler {
	return promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{ErrorLog: slogPrintln{a}})
}

// slogPrintln is promhttp's error log.
type slogPrintln struct{ a *API }

func (l slogPrintln) Println(v ...any) {
	l.a.log.Warn("serve metrics", slog.String("error", fmt.Sprint(v...)))
}
