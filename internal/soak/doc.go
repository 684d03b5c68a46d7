// Package soak is a time-compressed simulation of metricgate serve's
// daily runs over many days, with faults, for `make soak`.
//
// [Run] starts a source (a GitLab-shaped database from gitlabfake, on a
// PostgreSQL cluster of its own) and a history database (another cluster,
// so that it can be stopped), and a "process": the history store, a DuckDB
// warehouse, the runner over the example queries, the scheduler (schedule
// 0 4 * * *) and the status API, all on a fake wall clock. Then, day after
// day, it
//
//   - changes the source at 00:00 (issues closed, notes deleted, events and
//     pipelines added) and sets its as-of time (table soak_clock) to the day;
//   - draws a fault from a seeded RNG: none, the source restarted in the
//     middle of the run (pg_ctl restart -m fast), a query's connection
//     terminated (pg_terminate_backend), the history database down from
//     03:59 to 04:30, or the process killed in the middle of the run (its
//     history writes stop at once, its lock is released, its runs are
//     cancelled, and a new process is started, as a restart would);
//   - moves the clock minute by minute from 03:59 to 07:00, waiting while a
//     run is in progress, so that the tick, the catch-ups, the retries and
//     the reruns happen as they would;
//   - checks every warehouse table against the source queried directly with
//     the group-size filter applied here (every day's slice of an append
//     table, the newest result of a replace table): rows missing are
//     losses, rows too many are duplicates; scans every table for the
//     canary markers gitlabfake plants in non-public data;
//   - reads GET /api/v1/status every two hours of the day: stale is a
//     freshness violation, and so is failing after 07:00 (after recovery);
//   - samples the Go heap, the process's RSS and the goroutines.
//
// The plan of the runs, the expectation of what each day loads and the
// freshness of the status all come from package schedule, the one rule of
// "due" and "fresh" that run, serve and the API use; the report gives the
// status API's SLO attainment for the queries, the dumps and the loads
// (dumps and loads are recorded on the fake clock).
//
// [Report] holds the figures and prints them. The package's short test
// (3 days) runs in make test; the 30-day one needs the build tag soak
// (make soak).
//
// With [Options.DumpConfig] (make soak passes dump.yml), every 4 fake
// hours the source's as-of time moves on and the public projects are
// dumped (a full dump every 24 fake hours, increments in between) and
// loaded into the warehouse; the status reads give the loaded data's age
// against the 6h SLO. [Options.Increment] is a hook called at the same
// times.
package soak
