// Package postgres writes query results into a PostgreSQL warehouse.
//
// [Open] takes a postgres:// or postgresql:// URL. Its optional schema query
// parameter (default public) names the schema the tables live in; it is
// created when missing and removed from the URL before pgx sees it. Every
// identifier is quoted, so table and column names are used exactly as the
// load gives them.
//
// # Loads
//
// Rows go in with COPY (pgx's CopyFrom, the binary protocol), never row by
// row, streamed straight from the [warehouse.Rows]: memory does not grow
// with the result. Each load runs in one transaction, which PostgreSQL
// makes atomic for DDL too:
//
//   - append: create the table or add the columns it lacks, DELETE the rows
//     of the load's _snapshot_date and _source (and those of no source,
//     NULL: see package warehouse), COPY the new rows, COMMIT.
//   - replace: create the table or add the columns it lacks, DELETE every
//     row of the load's _source (and of none), COPY the new rows, COMMIT.
//     A load without a source deletes every row of its date (append) or
//     table (replace). The transaction is the staging area:
//     under MVCC a concurrent reader is not blocked and sees the old rows
//     until the commit and the new ones after it, never an empty table;
//     indexes, grants and views on the table stay as they are. VACUUM
//     (autovacuum) reclaims the old rows' space.
//
// A crash or a cancelled context at any point rolls the transaction back
// and leaves the previous state. Loads into one table take a transaction
// advisory lock on its name, so two writers never race to create or evolve
// it, and the loads of several sources into it run one after the other;
// loads into different tables run in parallel on the connection pool.
//
// # Types
//
// Kinds map to bigint, numeric(p,s) or numeric (exact, whatever the
// precision), double precision, text, boolean, date, timestamp,
// timestamptz, interval and jsonb, and arrays to T[]. A column whose kind
// changed (by [warehouse.FromPostgres] of the table's column type) fails the
// load with a [warehouse.IncompatibleError]; a wider integer type or a
// varchar column created by hand is the same kind and loads.
package postgres
