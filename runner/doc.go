// Package runner makes metricgate's daily run: every due, approved query of
// the catalog against every source database of its role, only the rows
// that pass the entity filter (at least min_group_size people behind each,
// counted by the guard's rewrite of the query) into the warehouse, and a record of
// everything in the history database.
//
// # One run
//
//  1. The run is recorded (history) before anything else happens; a run
//     that cannot be recorded does not start.
//  2. Approval: the Approver (review.None, review.Git, review.GitLab)
//     decides which files may run. The others are recorded as skipped,
//     with the reason.
//  3. The guard checks every query's text again: CI may not have run, or
//     may have run an older guard. A refused query fails without touching
//     the source.
//  4. A query's source header names a role (main, ci, …); the query runs
//     on every configured source of that role (Config.Sources), one query
//     run each, and each source's rows go into the query's one table with
//     the source's name in _source. A role no source has fails the query
//     with a message naming it. Sources run at the same time, within one
//     budget of Config.Workers queries at once that they take turns for; a
//     source that cannot be used (down, stale) fails only its own query
//     runs.
//     Per source, a coordinator opens a READ ONLY REPEATABLE READ
//     transaction, evaluates the source's as_of expression in it, refuses
//     the source when that is older than max_age, and exports its snapshot
//     (pg_export_snapshot). Every query of the source runs in its own READ
//     ONLY REPEATABLE READ transaction attached to that snapshot (SET
//     TRANSACTION SNAPSHOT), on up to Workers connections, so all of them see
//     the same data, as of the same instant (package internal/snapshot,
//     which the dump's tables use too).
//  5. Each query: statement_timeout (its timeout), lock_timeout,
//     idle_in_transaction_session_timeout, the source's work_mem and
//     temp_file_limit (when the role may set it) and an application_name
//     naming the run and the query; EXPLAIN (FORMAT JSON) against its
//     max_cost (the source's, or the header's when lower); the
//     query itself, whose result columns are checked against the guard's
//     analysis and the type rule before the first row is read; then rows
//     stream straight to the warehouse writer — converted, filtered by
//     min_group_size (dropped rows are counted, never written), and
//     limited by max_rows. Memory does not grow with the result. The
//     filter sees one source's rows: a group is never merged with another
//     source's before it is filtered, so a group small in every source is
//     dropped in every source, whatever their sum. What the filter
//     dropped is recorded only as a decade (package coarse). An error
//     the source raises is sealed where the runner receives it
//     ([SourceError]): SQLSTATE, condition name, the position in the
//     query file, the bound that fired or the configured address of a
//     failed connection; never the server's or the driver's text, which
//     can quote the values that failed.
//  6. Transient errors (a lost connection, a server restart, a
//     serialization failure) are retried with exponential backoff, on a
//     new connection attached to the same snapshot; guard, SQL, timeout
//     and cost errors are not. Queries fail independently. When the
//     snapshot itself is gone (the source restarted: it dies with the
//     coordinator's session, and attaching fails with SQLSTATE 22023), a
//     fresh snapshot is opened, once per source and run, for the queries
//     not done yet; their query runs record its time. [Result.Transient]
//     says which failures may pass, for the scheduler's reruns.
//  7. The run is succeeded when no query run failed, partial when some
//     failed and some succeeded (a source down while others load), failed
//     when none succeeded.
//
// The warehouse writer makes each load atomic (see package warehouse): a
// failure, a cancellation or a crash at any point leaves the previous
// contents of the table.
//
// # Scheduling
//
// [Scheduler] makes the runs of `metricgate serve`. robfig/cron parses the
// operator's schedule (UTC) and computes its ticks; the loop that waits for
// them is the scheduler's own, not cron's runner, because it must read the
// wall clock again after a sleep (a suspended VM, a clock jump), catch up a
// tick missed while no replica ran, and retry a tick whose run could not
// start. Each tick runs the queries due by their
// own schedules under the history database's run lock (a PostgreSQL
// advisory lock, watched: when its session is lost with a restart of the
// history database and another replica takes it, the run starts no more
// queries), so that any number of replicas make one run per tick; a
// tick missed while no replica ran is caught up once at start; Shutdown
// stops new work and cancels the running queries at a deadline, recording
// them as cancelled.
package runner
