// Package dump exports, every day, exactly what an anonymous visitor of the
// public projects of one GitLab group can see, table by table, to object
// storage; and loads the newest complete export into the warehouse,
// replacing the previous one atomically and recording it in the
// warehouse's own ledger.
//
// # dump.yml
//
// [ParseConfig] reads the reviewed definition: the group (default
// gitlab-org, subgroups included), the source schema (default public) and,
// for every exported table, an explicit column allowlist, the columns to
// pseudonymize, the columns public in clear and the table's scope. A table
// or column that is not listed is never exported; the users table can
// never be listed; a table without a scope is refused. Every problem is
// reported at once, as file:line:col.
//
// Scopes are checked against the table: tableScopes (fit.go) is the one
// table of the scopes that fit each table the dump knows (issues by
// {issue: id}, issue_metrics by {issue: issue_id}, notes by {note: id},
// merge requests by {merge_request: id}, label links and routes by target,
// events by event, pipelines by {pipeline: id}, releases by project with
// the releases and repository features, …). Any other scope is a problem
// at the scope naming the scopes that fit: {project: project_id} on issues
// or notes would export confidential issues and internal notes. A table
// the dump does not know is refused whatever its scope: nothing says what
// its rows hang off (a confidential flag, an internal flag, a feature, two
// objects at once as in merge_requests_closing_issues), so no kind, not
// even the strictest, can be vouched for. Adding a table means adding it
// to tableScopes, which security reviews (CODEOWNERS dump/).
//
// Columns are checked by their class ([Classifier]). With the schema
// catalog (schema.yml beside dump.yml; [CatalogClassifier]), a column of
// class text or red, or one the catalog does not list, is exported in
// clear only when the table lists it under public: (what an anonymous
// visitor sees of the rows in the scope: an issue's title, a public
// group's name); otherwise it must be pseudonymized or left out. Without a
// catalog ([PatternClassifier]) the configuration's guard.red_columns are
// red. Whatever the class, a column of [NeverPublic] (emails, passwords,
// secrets, tokens, encrypted_*, IP addresses, user agents, keys, *_url
// and import_url, yaml_variables, service_desk_reply_to) must be
// pseudonymized or left out, and public cannot list it. The dump package
// takes the classification as a function and does not import the guard.
//
// # Scope: what an anonymous visitor sees
//
// GitLab's levels, as stored in the database:
//
//	visibility_level (namespaces, projects)   0 private, 10 internal, 20 public
//	*_access_level (project_features)         0 disabled, 10 private (members only),
//	                                          20 enabled (everyone who can see the project),
//	                                          30 public (pages only)
//
// The rules, one per scope kind; a row is exported only when its kind's
// rule holds (COLUMN is the column named in scope):
//
//   - groups in scope: the group's namespace (found by its route) and every
//     subgroup below it (traversal_ids) whose every ancestor namespace,
//     including those above the configured group, has visibility_level 20.
//     Private and internal subgroups and everything below them are out.
//   - public project: visibility_level 20, pending_delete false (GitLab
//     hides projects being deleted), namespace a group in scope. Archived
//     public projects stay in; private, internal and personal projects, and
//     public-visibility projects below a private or internal group, are out.
//   - group: COLUMN is a group in scope.
//   - project: COLUMN is a public project, and every feature listed in
//     features has access level ≥ 20.
//   - issue: COLUMN is an issue of a public project with
//     issues_access_level ≥ 20 that is not confidential and whose author is
//     not banned. Rows attached to a confidential issue or to a banned
//     user's (metrics, notes, label links, events) are out.
//   - merge_request: COLUMN is a merge request whose target project is
//     public with merge_requests_access_level ≥ 20 and
//     repository_access_level ≥ 20, and whose author is not banned.
//   - banned: a user in banned_users, or with users.state 'banned'. GitLab
//     hides a banned user's issues and merge requests from everyone but
//     admins (Issue.without_hidden, MergeRequest.without_hidden); their
//     notes on other objects and their events without such a target stay,
//     as GitLab shows them. A NULL author is not banned.
//   - note: COLUMN is a note that is not internal (internal = false,
//     confidential not true) on a public issue or merge request; notes on
//     anything else (commits, snippets, designs, …) are out.
//   - label, milestone: COLUMN is a label or milestone of a group in
//     scope, or of a public project whose issues or merge requests are at
//     ≥ 20.
//   - pipeline: COLUMN is a pipeline of a public project with public_builds,
//     builds_access_level ≥ 20 and repository_access_level ≥ 20, and, when
//     it ran for a merge request, that merge request is public.
//   - target (with type: TYPE_COLUMN): a polymorphic reference; TYPE_COLUMN
//     names the class (Namespace and Group → group, Project, Issue,
//     MergeRequest, Note, Milestone, Ci::Pipeline) and COLUMN the id, which
//     must be public by that class's rule; any other class is out.
//   - event: the event's project is public, and its target (target_type,
//     target_id) is public by the target rule, or it has no target (pushes)
//     and the project's repository_access_level is ≥ 20.
//
// A NULL access level or flag counts as not public.
//
// # Dump
//
// [Exporter.Dump] checks dump.yml against the source's information_schema
// first ([CheckSource]: every listed table and column, and every column
// the scope rules read; all drift reported at once). A coordinator
// transaction (REPEATABLE READ, READ ONLY) exports its snapshot
// (pg_export_snapshot); Config.Workers connections attach to it (SET
// TRANSACTION SNAPSHOT) and export tables in parallel, biggest first, so
// every table is read from the same instant (package internal/snapshot,
// which the runner's queries use too). Each table is
// COPY (SELECT allowlisted columns … WHERE scope) TO STDOUT (FORMAT csv,
// HEADER), streamed through gzip into object storage (gocloud.dev/blob:
// file://, s3://, gs://) as dumps/<date>/<run>/<table>.csv.gz, then
// <table>.part2.csv.gz, … once a file reaches Config.SplitSize compressed
// bytes (each part starts with the header). Memory stays flat: a table is
// never held, only the current row and the compressor's window.
//
// Types are carried losslessly: the session is set to TimeZone UTC,
// DateStyle ISO, extra_float_digits 1 (shortest exact floats), so
// timestamps keep their offset and numerics their scale as PostgreSQL
// prints them; arrays are written as JSON arrays (to_json), JSON as its
// text. The manifest records every column's source type (pg_type name,
// SQL type, numeric precision and scale) and its encoding.
//
// Pseudonymization is done in Go while streaming, not in SQL: the key
// would otherwise be part of the statement text, visible in
// pg_stat_activity and in the server's log (log_statement,
// log_min_duration_statement, auto_explain) to anyone who can read them,
// and COPY takes no bind parameters; pgcrypto may not even be installed
// on a read-only backup. The value of a pseudonymized field is
// hex(HMAC-SHA256(key, value as PostgreSQL prints it)) truncated to 16
// bytes (32 hex digits): deterministic for a key, so joins on pseudonymized
// ids still work across tables and days, and not reversible without the
// key. NULL stays NULL. A dump refuses to start when a table pseudonymizes
// and no key (≥ 16 bytes) is set; the key is never logged or written.
//
// manifest.json is written last and is the commit marker: per table its
// columns with source types and rows, per file its SHA-256, size and rows,
// plus the snapshot time, dump.yml's SHA-256 and the tool version. A dump
// that fails or is killed leaves files but no manifest; load ignores it
// and retention ([Retain]) removes it once a newer dump is complete.
// Retention keeps the newest Config.Keep complete dumps and deletes the
// rest (manifest first), so rows deleted in production leave storage too.
//
// # Load
//
// [Loader.Load] runs on the warehouse side and reads only the bucket and
// the warehouse: no source, no history database. What the warehouse holds
// is in the warehouse itself, in its ledger ([LedgerTable] in the dump's
// schema; one [LedgerEntry] per dump or increment loaded: location, kind,
// base, snapshot time, tables, rows, when and by which tool), which the
// [Warehouse] writes in the transaction that loads the tables (Snowflake:
// into the staging schema that the swap brings in). Load takes the newest
// dump with a manifest, skips it when the ledger's last entry is that
// dump, checks that every listed file exists with its size (all problems
// at once), and hands the tables with their ledger entry to the
// [Warehouse], which verifies each file's SHA-256 as it streams and loads
// every table into staging and swaps them in together. A missing,
// truncated or corrupt file refuses the whole dump; the warehouse keeps
// the previous one, and its ledger says so. A new warehouse, or one
// restored without the dump's schema, has no ledger and is loaded from
// the newest full dump; a warehouse's ledger is lost only with its tables.
// With a [LoadRecorder] (the history database, for the status API) every
// load is also copied there, best effort: it never decides what to load,
// and its failures are warnings.
//
// # Increments
//
// A table of mode incremental in dump.yml (updated_at: its change column,
// key: its integer primary key, default id) can be dumped as the changes
// since the previous dump, so that dumps every few hours stay small.
// [Exporter.DumpKind] (and [Exporter.Plan]) decide: a dump is an increment
// when the history database holds a watermark for every incremental table,
// all of the newest complete dump in storage (the base), made with the same
// dump.yml, and the base's chain starts at a full dump whose snapshot is
// less than Config.FullEvery (default 24h) older than the new dump's
// (snapshot against snapshot, not the wall clock: a source restored from
// an old backup still gets increments); otherwise it is full. The periodic full
// dump is the reconcile: whatever increments missed (a row changed without
// its updated_at, an object deleted without its dependent rows, a commit
// later than the overlap) is corrected by it. Tables of mode full are
// exported whole in increments too.
//
// Every dump writes, for each incremental table, <table>.keys.csv.gz: the
// sorted keys of the rows in the scope at its snapshot. Nothing else of
// the table is kept between dumps. An increment of the table holds:
//
//   - upserts (<table>.csv.gz): the rows in the scope whose updated_at is
//     after the base's snapshot time less Config.Overlap (default 1h: a
//     transaction that commits after a snapshot with an older updated_at
//     is caught by the next increment), and the rows that entered the
//     scope without an updated_at change (a project made public again);
//   - deletes (<table>.deletes.csv.gz): the keys of the base that are not
//     in the scope now: rows deleted, and rows that left the scope (an
//     issue made confidential, a project made private).
//
// How the keys now are found: when the scope's groups and projects, with
// their feature levels, are what they were at the base (Manifest.
// ScopeSHA256), only rows that changed, or whose scope reads an object
// that entered or left the scope (a note's issue, an event's target, a
// pipeline's merge request), can have entered or left. The objects that
// did are worked out first, kind by kind, in the main snapshot: those
// changed since the window's start (updated_at), and the issues and merge
// requests of the users banned since then (banned_users.created_at, or
// users.updated_at of a user whose state is banned: a ban changes neither),
// whose status differs from the base's keys of their table (every changed
// one, when their table is not incremental). The candidates are then
// checked against the scope (and the upserts then read by key, without the
// scope's predicate again), and the rows deleted are the base's keys
// missing from the table: every key of the table, in the scope or not, is
// read (one scan of the key's index) and compared with the base's, in the
// exporting process, and never written anywhere. A keys file that did not
// change is copied from the base. When the groups or projects changed, or
// the table is in another database than main, every key in the scope is
// read and compared with the base's. An increment reads the changed rows
// by updated_at: an index on it makes that a range scan (GitLab has one on
// issues; README: incremental mode). An unban is not a change an
// increment sees: the unbanned user's issues and merge requests come back
// with the next full dump (the reconcile), at the latest after
// Config.FullEvery — late, never early.
//
// Nothing in a dump counts rows out of the scope. Earlier versions kept,
// beside the keys, a summary of every key of the table (in the scope or
// not) by bucket of 1024 keys, so that an increment read only the keys of
// the buckets that changed; its row counts and digests told the warehouse
// side how many private, confidential or internal rows each bucket held,
// and when one was added or deleted. The two sound ways out were a
// summary of the rows in the scope only, or the summary kept on the
// production side (the history database). A summary of the rows in the
// scope is the keys file itself and cannot find the deleted rows without
// the scope evaluated over the whole table, which is what the summary
// saved; keeping the whole table's summary in the history database would
// add a table there written by every dump, kept in step with storage's
// retention, of megabytes a dump at GitLab.com's size. Reading every key
// in the increment, as before the summaries, is the simpler of the sound
// ways: one index-only scan per incremental table, in memory, on the
// production side; its cost is in the README (incremental mode). The
// manifest's per-table rows are the rows of its files; its scope digest
// covers the public groups and projects only; its started_at and
// finished_at are wall-clock times (see SECURITY.md, known limits).
// TestNothingCountsRowsOutOfTheScope dumps two sources that differ only
// out of the scope and finds every file byte-identical.
//
// The watermark of each incremental table (the snapshot time of the dump
// that read it) is kept in the history database and advanced only after
// the manifest is written. An increment's manifest has format 2
// (IncrementFormat), so that an older loader refuses it, kind
// incremental, its base, and per table the mode, the key, the window and
// the deletes.
//
// [Loader.Load] brings the warehouse to the newest complete dump: it
// follows the bases from the newest dump back to the one the warehouse
// holds (its ledger's last entry) or to a full dump, and loads them in
// order, each in one warehouse transaction with its ledger entry
// ([Warehouse.ApplyIncrement]: per table, delete the keys of the
// upserts and the deletes, insert the upserts; then the entry). An
// increment whose base is neither held nor in storage is a [GapError]:
// nothing changes until the next full dump. Since the ledger commits with
// the tables, no crash leaves an increment applied and not recorded (or
// recorded and not applied); applying one twice would give the same tables
// anyway. Retention keeps the newest Config.Keep full dumps and the
// increments after them.
//
// # Across databases
//
// A table's source is a role (dump.yml source, default main); when
// Config.Sources has a database of that role the table is read there, else
// from the main database (as GitLab falls back to main for an undecomposed
// database). Such a table cannot join namespaces or projects, so its scope
// kind must be group, project or pipeline: the groups, projects (with
// their feature levels) and public merge requests of the scope are read in
// the main snapshot and written into the other database's statement as
// literals (COPY takes no bind parameters; they are integers and JSON
// printed by Go). Each database is read on one snapshot of its own,
// exported by its own coordinator after the main one: consistency is per
// database, and the manifest records each database's snapshot time
// (Manifest.Snapshots). Increments of such tables compare every key. A
// main table whose scope reads a table of another role (events with a
// Ci::Pipeline target read ci_pipelines) still needs that table in the
// main database.
package dump
