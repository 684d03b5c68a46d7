// Package catalog loads query files from an fs.FS and checks their headers,
// reporting every problem of every file at once, compiler-style:
//
//	queries/code_review/mr_merge_time.sql:4:4: unknown header key "schedul" (did you mean "schedule"?)
//
// It does not analyse the SQL; package guard does that. Query.Text is the
// whole file, so the guard's positions are positions in the file.
//
// # Query files
//
// A query file is queries/<area>/<name>.sql:
//
//	-- description: Median hours from MR creation to merge, per month.
//	-- owner: @some-pm
//	-- group_size: mr_count
//	-- min_group_size: 10
//	-- schedule: daily
//	-- load: append
//	-- timeout: 10m
//	SELECT ...
//
// The query's name is the file's stem. It becomes a table name, so it must
// match [a-z][a-z0-9_]* and be at most 63 bytes; names are unique across
// the catalog, whatever the directory. The directory (the area) only groups
// files, for CODEOWNERS and for people.
//
// # Header
//
// The header is the block of lines at the very top of the file that start
// with "--". It ends at the first line that does not; a blank line is the
// usual end. Every line in it is either a bare "--" or "-- key: value";
// blanks around the key, the colon and the value do not matter. Any other
// comment in the header is a problem: put free comments after a blank line
// that ends the header. Each key appears at most once. Values are plain
// text, without control characters; nothing is quoted.
//
// After the header, blank lines and comments (-- and /* */) may come before
// the SQL, which must not be empty. Query.BodyLine is the line of its first
// token.
//
// # Keys
//
//   - description (required): what the numbers mean, for the people who
//     read them; at most 500 characters.
//   - owner (required): one or more GitLab handles, separated by commas or
//     blanks: @ followed by a username or a group path (@some-pm,
//     @gitlab-org/plan). The owners answer questions about the query.
//   - group_size (required): the output column that counts the entities
//     behind each row; a lowercase SQL identifier. The guard checks that it
//     is a count(*) or count(DISTINCT ...).
//   - min_group_size: rows whose group_size is smaller are dropped before
//     they are written anywhere. Default and floor: the operator's
//     guard.min_group_size (Config.MinGroupSize, default 10); a query may
//     ask for more, never for less.
//   - source: the source database, one of the operator's sources.<name>.
//     Default "main" (Config.DefaultSource).
//   - schedule: daily (default), weekly (Mondays), monthly (the 1st) or a
//     standard 5-field cron expression in UTC (minute hour day-of-month
//     month day-of-week). It selects the global runs the query takes part
//     in; see Schedule. Descriptors (@daily, @every 1h) and time zones are
//     not accepted, nor an expression that never fires.
//   - load: append (default) keeps one slice of rows per snapshot date, a
//     time series; replace keeps the latest result only.
//   - target: the warehouse table, [a-z][a-z0-9_]*, at most 63 bytes.
//     Default: the query's name. Two queries cannot write one table.
//   - timeout: the statement timeout, a Go duration such as 90s, 10m or
//     1h30m; more than zero and at most Config.MaxTimeout (the operator's
//     guard.max_timeout, default 30m).
//     Default Config.DefaultTimeout (15m).
//   - max_cost: the largest EXPLAIN total cost the query may have; a
//     positive number. Default: no limit.
//   - max_rows: the most rows the result may have (more fails the query);
//     a positive whole number of at most 10,000,000. Default
//     Config.DefaultMaxRows (100000).
//   - tags: comma-separated tags for finding and grouping queries; each a
//     lowercase identifier ([a-z][a-z0-9_]*) or a scoped tag like GitLab's
//     scoped labels, scope::value (stage::plan). Repeats are dropped.
//
// An unknown key, a misspelt enum value (load: replce) or a misspelt
// source gets a "did you mean" when a known one is close: within two edits
// (a swap of neighbours is one), or the only one that the text begins.
//
// # Files
//
// A query file is a regular file (not a symbolic link) of at most 256 KiB
// of UTF-8 text, without NUL bytes, bidirectional control characters
// ("Trojan Source"), invisible characters (zero-width, no-break and other
// look-alike spaces) or a byte-order mark: reviewers approve what they see,
// and PostgreSQL reads such characters as part of a name. LF and CRLF line ends are both
// fine; Query.Text keeps them as they are and Query.SHA256 is the hash of
// the bytes as stored. Load skips directories whose name starts with "."
// and files whose name does not end in ".sql".
//
// # Problems
//
// Each problem has a stable rule identifier (Problem.Rule), a position and
// a message. Columns count characters. A problem with the file as a whole
// is at 1:1, as is a missing key. The rules:
//
//	file/size            larger than 256 KiB
//	file/utf8            not valid UTF-8
//	file/nul             a NUL byte
//	file/bom             a byte-order mark
//	file/bidi            a bidirectional control character
//	file/invisible       a zero-width or other invisible character, or a space other than U+0020
//	file/cr              a carriage return without a line feed after the header
//	file/not-regular     a symbolic link or other non-regular file
//	file/extension       a file given to LoadFiles whose name does not end in .sql
//	file/no-sql          no SQL after the header
//	header/comment       a header line that is not "-- key: value"
//	header/unknown-key   a key that is not one of the keys above
//	header/duplicate-key a key given twice
//	header/missing-key   a required key is missing
//	header/empty-value   a key without a value
//	header/control-char  a control character in a value
//	value/<key>          a bad value of that key, e.g. value/timeout
//	name/invalid         the file name does not make a valid query name
//	name/duplicate       another file has the same name
//	target/duplicate     another query writes the same table
//	config/invalid       Parse was given an invalid Config
//
// A file's problems are all reported, and so are those of every file:
// Load does not stop at the first bad file.
package catalog
