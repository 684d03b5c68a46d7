// Package runner makes metricgate's daily run: every due, approved query of
// the catalog against its source database, only the rows that pass the
// group-size filter into the warehouse, and a record of everything in the
// history database.
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
//  4. Per source, a coordinator opens a READ ONLY REPEATABLE READ
//     transaction, evaluates the source's as_of expression in it, refuses
//     the source when that is older than max_age, and exports its snapshot
//     (pg_export_snapshot). Every query of the source runs in its own READ
//     ONLY REPEATABLE READ transaction attached to that snapshot (SET
//     TRANSACTION SNAPSHOT), on Workers connections, so all of them see
//     the same data, as of the same instant.
//  5. Each query: statement_timeout (its timeout), lock_timeout,
//     idle_in_transaction_session_timeout and an application_name naming
//     the run and the query; EXPLAIN (FORMAT JSON) and its max_cost; the
//     query itself, whose result columns are checked against the guard's
//     analysis and the type rule before the first row is read; then rows
//     stream straight to the warehouse writer — converted, filtered by
//     min_group_size (dropped rows are counted, never written), and
//     limited by max_rows. Memory does not grow with the result.
//  6. Transient errors (a lost connection, a server restart, a
//     serialization failure) are retried with exponential backoff, on a
//     new connection attached to the same snapshot; guard, SQL, timeout
//     and cost errors are not. Queries fail independently.
//  7. The run is succeeded when no query failed, partial when some failed
//     and some succeeded, failed when none succeeded or a source could not
//     be used.
//
// The warehouse writer makes each load atomic (see package warehouse): a
// failure, a cancellation or a crash at any point leaves the previous
// contents of the table.
//
// # Scheduling
//
// [Scheduler] makes the runs of `metricgate serve`: robfig/cron fires on
// the operator's schedule (UTC), each tick runs the queries due by their
// own schedules under the history database's run lock (a PostgreSQL
// advisory lock), so that any number of replicas make one run per tick; a
// tick missed while no replica ran is caught up once at start; Shutdown
// stops new work and cancels the running queries at a deadline, recording
// them as cancelled.
package runner
