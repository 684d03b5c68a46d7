// Package warehouse defines what a load into the warehouse is: a query
// result's columns and types ([Load], [Column], [Type]), the stream of its
// rows ([Rows]) and the provenance stamped on every row ([Provenance]). The
// writers live in the subpackages (duckdb, postgres, snowflake); the
// package that drives them declares the interface it needs (runner.Writer),
// and every writer passes the one conformance suite in warehousetest.
//
// # Layout
//
// One table per query, named by its target (default: the query's name),
// with the query's output columns followed by the provenance columns
// _snapshot_date (date), _run_id (bigint), _query_sha256 (text), _commit
// (text), _loaded_at (timestamp with time zone), _mr_iid (bigint: the
// GitLab merge request that approved the query file, NULL when none) and
// _source (text: the name of the source database the row was computed
// on). A table created before a provenance column existed gets it added
// by schema evolution, like any new column; its older rows read NULL there.
//
// # Sources
//
// A query runs on every source database of its role, and all of them load
// into the query's one table, side by side: a load replaces only the rows
// of its own _source ([Provenance.Source]).
//
//   - append: one slice per _snapshot_date and _source. A load deletes the
//     rows of its date and source and inserts the new ones in one
//     transaction, so a rerun for a date leaves exactly one copy per
//     source, other sources' rows stay, and a crash leaves the previous
//     state.
//   - replace: the table holds the latest result of each source. A load
//     deletes its source's rows and inserts the new ones atomically, in
//     one transaction (DuckDB from a temporary staging table, PostgreSQL
//     by COPY within the transaction, Snowflake from a temporary table
//     loaded by COPY INTO), so views on the table stay and readers see
//     the old rows or the new, never a mix.
//
// Rows whose _source is NULL belong to every source: those of a table
// loaded before the column existed (one source then), and those of a load
// with Source "" (which replaces the rows of every source, as loads did
// before). Every load deletes them along with its own rows, so upgrading a
// single-source deployment, or adding sources to it, never duplicates a
// row: the first load of each date (or, for replace, the first load)
// replaces the old rows, and each source's rows are there once.
//
// Aggregates summed across sources by consumers are correct only for the
// additive ones (count, sum); queries/README.md explains which are and how
// the group-size filter, applied to each source's rows alone, makes such
// sums lower bounds.
//
// Schema evolution: a column the table lacks is added (older rows read
// NULL); a column the result lacks stays in the table and reads NULL in new
// rows; a column whose type changed fails the load with an
// [IncompatibleError] naming it, and the table is left as it was.
//
// # Dumps
//
// The public-project dumps (package dump) load through the same drivers,
// and this package holds what the loader hands them, so that a driver
// imports nothing but this package: the tables of a dump ([DumpTable]),
// each in gzip CSV files verified against the manifest while they are
// read ([DumpFile]; a mismatch is a [CorruptError]), full or incremental
// ([DumpMode]), and the entry a load adds to the warehouse's own ledger
// of what it holds ([LedgerEntry], in [LedgerTable] of the dump's
// schema). dump.Warehouse is the interface the loader declares;
// warehousetest.ExerciseDump and ExerciseLedger check every driver
// against it.
//
// One rule each, shared by the drivers: [DeleteSQL] (the rows a load
// replaces), [CompareColumns] (schema evolution: the columns to add, the
// ones whose type changed) and [IsIdent] (names taken as they are).
//
// # Types
//
// Result columns are PostgreSQL types; [FromPostgres] maps them to a
// [Kind], and each writer maps the kind to its own type:
//
//	kind (PostgreSQL)                   DuckDB          PostgreSQL      Snowflake
//	int (int2, int4, int8, oid)         BIGINT          bigint          NUMBER(38,0)
//	numeric(p,s), p ≤ 38                DECIMAL(p,s)    numeric(p,s)    NUMBER(p,s)
//	numeric(p,s), p > 38                DOUBLE          numeric(p,s)    FLOAT
//	numeric (unconstrained)             DOUBLE          numeric         FLOAT
//	float (float4, float8)              DOUBLE          double precision FLOAT
//	text (text, varchar, uuid, other)   VARCHAR         text            VARCHAR
//	bool                                BOOLEAN         boolean         BOOLEAN
//	date                                DATE            date            DATE
//	timestamp                           TIMESTAMP       timestamp       TIMESTAMP_NTZ
//	timestamptz                         TIMESTAMPTZ     timestamptz     TIMESTAMP_TZ
//	interval                            INTERVAL        interval        VARCHAR (ISO 8601, Interval.String)
//	json, jsonb                         JSON            jsonb           VARIANT
//	arrays of the above                 LIST (T[])      T[]             ARRAY
//
// An unconstrained numeric (what avg() and sum() of numeric return) has no
// fixed scale, which DuckDB's DECIMAL and Snowflake's NUMBER need: it is
// loaded as a double there (about 15 significant digits) and exactly in
// PostgreSQL. Declare the scale in the query (round(avg(x), 2)::numeric(12,2))
// to keep it exact everywhere.
package warehouse
