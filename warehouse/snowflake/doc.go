//go:build !no_snowflake

// Package snowflake writes query results into a Snowflake warehouse through
// gosnowflake. Build with -tags no_snowflake to leave it (and gosnowflake)
// out of the binary.
//
// [Open] takes snowflake://user:password@account/database/schema?warehouse=…,
// a gosnowflake DSN behind the scheme; tables go to its schema. Every
// identifier is quoted, so names keep their (lower) case: query them as
// "table"."column".
//
// # The load path
//
// A load is bulk, never row by row, and holds neither the result nor its
// files in memory. On one session:
//
//  1. The rows are written as gzip CSV into a local temporary directory,
//     a new file every [DefaultFileSize] (64 MiB) of CSV; each finished
//     file is PUT on a temporary stage and removed, so at most one file
//     is on disk at a time.
//  2. COPY INTO loads every staged file into a temporary table of VARCHAR
//     columns (ON_ERROR = ABORT_STATEMENT, PURGE = TRUE).
//  3. The table is created, or given the columns it lacks (DDL commits at
//     once in Snowflake, so this comes first); then one transaction
//     deletes the rows the load replaces — append: those of its
//     _snapshot_date; replace: all; in both cases of the load's _source
//     and of none (NULL) only, when it has a source — and INSERTs …
//     SELECTs the new ones from the temporary table, converting each
//     column to its type and stamping the provenance (bound values).
//     Readers see the old rows or the new, never a mix; a failed or killed
//     load commits nothing.
//
// Replace used to fill a new table and swap it in (ALTER TABLE … SWAP
// WITH). With several sources a replace must keep the other sources'
// rows, and a copy of them swapped in would lose the rows another source's
// load committed meanwhile; DELETE takes the table's lock, so two loads'
// transactions run one after the other and each keeps the other's rows.
//
// Why staged files rather than gosnowflake's array binding: array binding
// needs every row of a batch in memory as per-column slices, and stages
// only above a threshold with its own CSV encoding of each Go type, which
// gives no control over NULL against empty strings, timestamps with zones
// or decimals. Files streamed through PUT keep memory flat, use Snowflake's
// fastest path for large loads, and make the encoding ours and testable.
//
// Loading text first and converting in SQL (CAST, TO_TIMESTAMP_TZ with
// explicit formats, PARSE_JSON) keeps the COPY a plain string load: COPY
// transformations support only some functions, and without the format
// arguments.
//
// # CSV
//
// Every non-NULL value is enclosed in double quotes (a quote doubled
// inside); NULL is an unquoted \N. The COPY's FILE_FORMAT has
// FIELD_OPTIONALLY_ENCLOSED_BY = '"', NULL_IF = ('\\N') and
// EMPTY_FIELD_AS_NULL = FALSE, so "" loads as the empty string, distinct
// from NULL. Fields are written as: int and decimal as plain digits
// (decimals with all their digits), float with the shortest exact digits
// (NaN, inf, -inf), bool true/false, date YYYY-MM-DD, timestamps with nine
// fraction digits (timestamptz in UTC with its +00:00 offset), interval as
// ISO 8601 (Interval.String), JSON as its text, arrays as JSON arrays.
//
// # Types and schema evolution
//
// Kinds map to NUMBER(38,0), NUMBER(p,s) (p ≤ 38; FLOAT otherwise and for
// an unconstrained numeric), FLOAT, VARCHAR, BOOLEAN, DATE, TIMESTAMP_NTZ,
// TIMESTAMP_TZ, VARCHAR for intervals, VARIANT and ARRAY. Each column's
// comment records its logical type (metricgate:numeric(12,2)[]): the
// writer compares it to a result's so a type change hidden by the mapping
// (interval to text, text[] to int[]) is still an incompatible change, and
// Read uses it to decode intervals and array elements.
//
// # Leftovers
//
// The stage and the VARCHAR table are temporary and die with the session.
// A column added for a load that then failed stays (NULL in every row).
// Tables named <table>__mg_new_<random>, left by a replace killed before
// its swap in older versions, hold nothing anyone reads and can be dropped.
package snowflake
