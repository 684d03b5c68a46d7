// Package api is metricgate's HTTP interface, served by metricgate serve:
// a JSON status API, Prometheus metrics and a server-rendered status page.
//
// # Routes
//
// Exactly those of DESIGN.md, documented in openapi.yaml (a test checks
// that the router and the file agree):
//
//	GET  /healthz               the process is alive (never needs a token)
//	GET  /readyz                the history database answers (never needs a token)
//	GET  /api/v1/status         state, last and next run, freshness per query and per dump; 503 when stale or failing
//	GET  /api/v1/runs           newest runs (?limit=, default 50)
//	POST /api/v1/runs           start a run now: Authorization: Bearer <api.token>; body {"queries": [...]} optional; 202, 409 during a run
//	GET  /api/v1/runs/{id}      one run and its query runs
//	GET  /api/v1/queries        every query of the catalog with its freshness
//	GET  /api/v1/queries/{name} one query, and its newest runs (?limit=, default 30)
//	GET  /api/v1/dumps          newest dumps and loads (?limit=, default 30)
//	GET  /metrics               Prometheus metrics
//	GET  /                      the status page (HTML, no JavaScript, reloads every minute)
//
// # Freshness
//
// Freshness is the age of the data, by the rule of package schedule (one
// rule for "due" and "fresh", shared with run, serve and the soak): the
// time since the as-of time of the source snapshot the data was read from
// (its finish time when none was recorded). A query is stale when its data
// is older than its schedule's period (the larger of the query's and the
// global run's: a weekly query is allowed 7 days) plus
// Config.FreshnessGrace. It
// is failing when its newest run failed (an invalid file counts). A query
// that never ran, or was only ever skipped (not approved), is pending:
// there is nothing to be stale yet; a run that stops happening shows as
// the whole service being stale (no run for a period plus the grace). The
// dumps of each group and the loads into the warehouse are judged the
// same way (a load is exactly as fresh as the dump it loaded) against Config.DumpPeriod (daily), or are stale past
// Config.DumpFreshnessSLO when it is set; with no dump in the history
// there is nothing to judge. GET /api/v1/status and GET / answer 503 when
// anything is stale or failing, so an uptime checker needs nothing but the
// status code. A tick whose run cannot start (Runs.TickError) makes the
// status failing, shows as last_tick_error and as the gauge
// metricgate_scheduler_tick_error. When the history cannot be read at all,
// GET /api/v1/status and every JSON route that reads it (the runs, the
// queries, the dumps, and POST /api/v1/runs, whose run lock is there)
// answer 503 in the error shape (history_unavailable, Retry-After), with
// the tick error when there is one; GET / answers 503 with a page that
// says the status is unknown. A 500 is left for what is not the history
// being down.
//
// Serve's scheduled dumps and loads (Deps.Jobs) count too: a job whose
// newest tick failed makes the status failing (job_errors, a problem, its
// dump or load failing, also when it left no record in the history) and
// shows as metricgate_dump_tick_error{kind,name} and
// metricgate_dump_tick_failures{kind,name}.
//
// The status is computed from the history (one small query per catalog
// query, on indexes) at most once per Config.CacheTTL (1s) and shared by
// concurrent requests, so that pollers, Prometheus and wall displays cost
// the history database next to nothing whatever their number.
//
// # Security
//
// POST /api/v1/runs needs Authorization: Bearer with Config.Token (401
// without a bearer token, 403 with a wrong one); tokens are compared by
// their SHA-256 in constant time. New refuses an empty token unless
// Config.AllowUnauthenticatedRuns. Config.ReadToken, when set, guards every
// GET but /healthz and /readyz, as a bearer token or as the password of
// HTTP basic authentication (so that a browser on a wall display can send
// it). Errors have one shape, {"error": {"status", "code", "message",
// "request_id"}} (and "last_tick_error" on the status's 503
// history_unavailable); neither a 500 nor that 503 carries the underlying
// error's text (it is logged with the request id). Every response has an X-Request-Id (the
// client's, when it sent a short plain one). No response shows a secret:
// the settings shown are given already redacted, and tokens are never
// echoed. With approval none, every response says so: an
// X-Metricgate-Approval: none header, a Warning header, a "warning" member
// in every JSON object and a banner on the page.
package api
