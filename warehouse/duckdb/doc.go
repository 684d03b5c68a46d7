//go:build !no_duckdb

// Package duckdb is the embedded warehouse: a DuckDB file written through
// the duckdb-go driver (cgo; build with -tags no_duckdb to leave it out).
//
// [Open] or [OpenURL] (duckdb:///abs/path.duckdb, duckdb://rel/path.duckdb)
// opens the file, creating it; one process at a time may hold it (DuckDB
// locks the file), so close the writer before another process opens it.
//
// # How a load is written
//
//  1. The rows stream through DuckDB's Appender into a temporary staging
//     table private to the load's connection (never row-by-row INSERT).
//     Temporary tables live outside the database file: a crash or a
//     failed load leaves nothing behind in it. Nothing of the result is
//     held in Go memory beyond the Appender's current chunk (2048 rows).
//  2. One transaction then brings the table up to date: CREATE TABLE when
//     it is new, or a check of the result's columns against the table's
//     (a changed type fails with a [warehouse.IncompatibleError] before
//     anything changes) and ALTER TABLE ADD COLUMN for each added column;
//     then DELETE the rows of the load's _snapshot_date (append) or every
//     row (replace) and INSERT … SELECT from the staging table, stamping
//     the provenance columns. DuckDB's DDL is transactional and its commit
//     is durable through the write-ahead log, so readers and a process
//     restarted after a crash see the previous or the new contents, never
//     a mix: a replace is the swap of the staging table's rows in for the
//     old ones, done as delete + insert in one transaction rather than
//     DROP + RENAME, which keeps the table (and views on it) in place.
//
// # Concurrency
//
// A Writer is safe for concurrent use. Each Write streams into its own
// connection and staging table, so the runner's workers load in parallel;
// the transactions of step 2 are serialized by the Writer (DuckDB would
// otherwise abort one of two transactions that alter or create the same
// table), and they are short: a copy inside the database.
//
// # Types
//
// Columns map as the warehouse package documents: BIGINT, DECIMAL(p,s)
// for p ≤ 38, DOUBLE for float and for an unconstrained (or p > 38)
// numeric, VARCHAR, BOOLEAN, DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE,
// INTERVAL (months, days and microseconds kept apart), JSON and LIST
// (T[]). Identifiers are always quoted.
package duckdb
