// Package history is the run history of metricgate: which runs happened,
// what each query of a run did (rows loaded and suppressed, cost, attempts,
// approval, snapshot time, duration) and why something failed or was
// skipped. It is what the status API and the scheduler's catch-up read.
//
// The history lives in a PostgreSQL database, opened with [Open] through
// the pgx database/sql driver. Its schema is the goose migrations of
// package migrations, applied by [Store.Migrate] under goose's advisory
// session lock (metricgate serve migrates at start; `metricgate migrate`
// does it by hand). The SQL is in queries/*.sql (one file per topic); sqlc generates the code in
// internal/db from it and from the migrations (`make generate`, never
// edited by hand), with methods that take the connection, so that one query
// runs on the pool or in a transaction.
//
// # Conventions
//
//   - "Newest" means the highest id. Ids are assigned when a run or query
//     run is recorded, so they follow start order, and the indexes serve
//     "latest runs", "history of a query" and "last success" directly.
//   - Times keep PostgreSQL's microsecond resolution (finer parts are
//     truncated) and are returned in UTC. A zero time.Time is stored as
//     NULL: a run that is not finished, a skipped query that never started.
//   - Durations are stored as bigint microseconds (column duration_us).
//   - A missing run or query run is [ErrNotFound], wrapped: test it with
//     errors.Is. Driver errors never need to be inspected by callers.
//   - Errors never contain the database password: [Open] names the
//     database by host, port and name only.
package history
