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
//     row (replace) — of the load's _source and of none (NULL) only, when
//     it has a source — and INSERT … SELECT from the staging table,
//     stamping the provenance columns. DuckDB's DDL is transactional and its commit
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
// table, or delete from it), and they are short: a copy inside the
// database. So loads of several sources into one table each keep the
// others' rows.
//
// # Memory
//
// While loads are in flight the writer sets DuckDB's memory_limit to 4 MiB
// plus 2 MiB for every column of every load being written (RESET to
// DuckDB's default, 80% of RAM, when none is), so that the staging table and
// the INSERT's transaction-local rows spill to the temp directory next to
// the file instead of growing with the result; and it flushes the Appender
// every 16,384 rows (by itself it buffers about 200k rows outside the
// limit). DuckDB pins blocks per column being written, so the limit must
// grow with the width: at 1 MiB a column, loads of 23 columns and more
// failed with "Out of Memory Error: could not allocate block"; at 2 MiB,
// 23, 63 and 200 columns of mixed types load (300k rows each, and 63
// columns × 1M rows), and two loads of 150 columns at once
// (TestWideLoadsUnderTheMemoryLimit).
//
// Measured with BenchmarkPeakRSS of package runner (a `metricgate run` of
// a 100k / 300k / 1M-row result of three BIGINT columns, MiB, anonymous
// memory sampled from /proc, on 2 shared cores):
//
//   - no limit (DuckDB's default): 116-122 / 142-146 / 197-210 peak RSS at
//     commit 04256bc, about 9 MiB more per 100k rows: the staging table
//     (TEMP, in memory: 35 MiB at 1M rows), the INSERT … SELECT's
//     transaction-local rows (uncompressed, about 140 bytes a row), and
//     allocator memory DuckDB does not count.
//   - 4 MiB + 2 MiB a column (22 MiB here): anonymous 46 / 58 / 71, bounded
//     by the limit (DuckDB's allocator keeps about twice the limit), 2.6
//     MiB per 100k rows up to 1M and levelling off.
//   - 4 MiB + 1 MiB a column: anonymous 41 / 40 / 46, flat, but wide loads
//     fail (above).
//   - allocator_flush_threshold, allocator_bulk_deallocation_flush_threshold,
//     allocator_background_threads, write_buffer_row_group_count,
//     checkpoint_threshold, enable_optimistic_write, threads 1, staging in a
//     regular table: no change or worse.
//
// A dump load (LoadDump) takes the same share: before every table,
// memory_limit is set for the widest table loaded so far (tables created
// earlier in its transaction keep blocks pinned until commit: at 1 MiB a
// column, the load failed on its second table), with threads = 1 and
// allocator_flush_threshold = 4 MiB until it returns. Measured with
// BenchmarkDumpLoad of package dump at scale 35 (1.9M rows, 14 tables of
// 6 to 24 columns, 94 MB of gzip; peak RSS in MiB, load alone through a
// small harness binary of about 55 MiB, 3-4 runs each, 2 shared cores):
//
//   - before (48 MB limit, 2 threads): 169-234 harness, 258 `metricgate
//     load` (253 at scale 10), about 410-430k rows/s.
//   - threads 1: 168-211, and faster (about 515k rows/s: gzip files are
//     read by one thread each anyway).
//   - threads 1, limit set per table, flush threshold 4 MiB (committed):
//     170-182 harness, 210-219 `metricgate load` (2 runs), about
//     490k rows/s.
//   - the limit for the current table only: 164-174 (within the noise,
//     and not safe, above); a flat 32 MB: 154-201; 24 MB or 1 MiB a
//     column: out of memory; preserve_insertion_order = false: out of
//     memory at 48 MB, no better at more; buffer_size 1 MiB: no change;
//     allocator_bulk_deallocation_flush_threshold, background threads: no
//     better.
//   - each table committed in its own transaction, as staging tables
//     swapped in at the end would be: the same peak (166-228), and rows
//     went to the file instead of the temp directory, so the load stays
//     one transaction.
//
// What remains, from /proc during the load (harness, jemalloc's decay set
// to 0 through DUCKDB_JE_MALLOC_CONF to take its retention out): about
// 25 MiB more of the binary's code paged in by DuckDB (file-backed: the
// harness is 55 MiB in all at rest, RssFile alone 81-84 during the load), 50-60 MiB anonymous between tables (the buffer
// pool: 30-38 MiB of IN_MEMORY_TABLE, the transaction's rows, the rest
// spilled to the temp directory, up to 90 MB; plus allocator overhead),
// and 15-20 MiB transient while a table is read and at commit, when the
// spilled rows are written to the file: 148-161 in all, 48 MB or 32 MB
// limit alike. The variance above that (up to 70 MiB) is jemalloc keeping
// freed pages for its decay time (1 s) and the block allocator's
// MADV_FREE pages, which count in RSS until the kernel needs them; the
// memory_limit and flush settings reduce it, nothing reachable from SQL
// removes it. So `metricgate load` cannot go much below about 200 MiB
// (`metricgate version`'s 102 + about 100) with DuckDB loading in
// process.
//
// The rest of a process's RSS is the binary's own code and data (about 100
// MiB for `metricgate version`: DuckDB, the PostgreSQL parser, the
// Snowflake and cloud-storage clients), file-backed and shared.
//
// # Types
//
// Columns map as the warehouse package documents: BIGINT, DECIMAL(p,s)
// for p ≤ 38, DOUBLE for float and for an unconstrained (or p > 38)
// numeric, VARCHAR, BOOLEAN, DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE,
// INTERVAL (months, days and microseconds kept apart), JSON and LIST
// (T[]). Identifiers are always quoted.
package duckdb
