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
// # Memory
//
// The writer sets none of DuckDB's memory settings; its defaults apply
// (memory_limit 80% of RAM, temp_directory next to the file). What a load
// costs, and what the settings that could lower it do, measured with
// BenchmarkPeakRSS of package runner (peak RSS of `metricgate run` for a
// 100k / 300k / 1M-row result of three BIGINT columns, MiB, two runs or
// more each, on 2 shared cores, at commit 04256bc):
//
//   - defaults: 116-122 / 142-146 / 197-210, about 9 MiB per 100k rows.
//     DuckDB's own accounting (duckdb_memory()) shows where: the staging
//     table (TEMP, in memory: 35 MiB at 1M rows) and the INSERT … SELECT's
//     transaction-local rows (uncompressed, about 140 bytes a row here,
//     17 MiB at 100k); the rest is allocator memory it does not count.
//   - allocator_flush_threshold 8MB or 16MB, allocator_bulk_deallocation_flush_threshold
//     8MB, allocator_background_threads: no change (within the noise).
//     write_buffer_row_group_count 1, checkpoint_threshold 4MB or 1GB,
//     enable_optimistic_write false, threads 1: no change.
//   - memory_limit 16MB: 109-117 / 114-122 / 120-133, about 1-2 MiB per
//     100k rows, flat (32MB: 146-151 at 1M, 64MB: 159-164): the staging
//     table and the INSERT spill to the temp directory. With the Appender
//     flushed every 2048 rows (it otherwise buffers about 200k rows outside
//     the limit) a 300k-row load of 400-byte strings peaks at 152-159 MiB
//     instead of 165-201.
//
// A fixed low memory_limit is not used because it fails loads: DuckDB
// pins blocks per column being written, so under 16MB a table of 23
// columns, and under 64MB one of 63 columns, fails with "Out of Memory
// Error: could not allocate block" (8MB already fails the three-column
// benchmark). A limit would have to grow with the widest load in flight.
//
// # Types
//
// Columns map as the warehouse package documents: BIGINT, DECIMAL(p,s)
// for p ≤ 38, DOUBLE for float and for an unconstrained (or p > 38)
// numeric, VARCHAR, BOOLEAN, DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE,
// INTERVAL (months, days and microseconds kept apart), JSON and LIST
// (T[]). Identifiers are always quoted.
package duckdb
