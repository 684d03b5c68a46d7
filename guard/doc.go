// Package guard decides whether a query may leave the source database.
//
// Check parses the query with PostgreSQL's own parser (pg_query_go, the
// parser of PostgreSQL 17) and applies static rules; every violation carries
// the line and column of the offending token and a stable rule id. The
// runner checks again before every execution: CI having passed is never
// trusted. What the guard cannot decide statically, the runner checks at run
// time: the EXPLAIN cost, the type of every aggregate column, and the group
// size of every row.
//
// # Rules that hold everywhere, at any depth
//
//   - Exactly one statement, a plain SELECT (set operations allowed; each
//     top-level branch is held to the top-level rules). No SELECT … INTO, no
//     FOR UPDATE/SHARE, no data-modifying CTE, no WITH RECURSIVE (use
//     namespaces.traversal_ids for hierarchies), no $n parameters, no
//     TABLESAMPLE (results must be reproducible).
//   - Every function called is on the allowlist in functions.go: aggregates,
//     math, date/time, string, conditional, and a few array and JSON
//     accessors. Everything else is rejected by name, with the reason for the
//     well-known dangerous ones (pg_read_file, dblink, lo_*, set_config,
//     pg_sleep, nextval, txid_*, pg_advisory*, …). Schema-qualified
//     functions, operators and types are allowed only from pg_catalog, so a
//     user-defined object cannot shadow a built-in.
//   - Collecting aggregates (string_agg, array_agg, json_agg, jsonb_agg,
//     json_object_agg, xmlagg, range_agg, JSON_ARRAYAGG, …) are rejected even
//     inside subqueries: they carry rows.
//   - System catalogs (pg_*, pg_catalog, information_schema) are not read,
//     nor through casts to the object identifier types ('pg_authid'::regclass,
//     ::regproc, ::regrole, …).
//   - Names are ASCII: a look-alike letter (Cyrillic е, fullwidth ｅ, a
//     combining accent) names another object than the one reviewers read,
//     and a fullwidth semicolon is a letter of the name before it.
//   - Expressions nest at most MaxNesting levels (parentheses plus operators
//     chained at one level, counted on the tokens before parsing): deeper
//     trees crash PostgreSQL's parser. Runs of operator characters are at
//     most MaxOperatorRun long: the scanner takes quadratic time over them.
//   - Column aliases on a base table or join (users AS u(a, b)), or on a
//     subquery or CTE that selects * ((SELECT * FROM users) s(a, b)), are
//     rejected: they rename columns the guard cannot see, and could hide a
//     red column under a harmless name.
//
// # Rules of the top-level SELECT
//
//   - Aggregate-only: every output column is built from aggregate calls,
//     GROUP BY expressions (also by position or output name) and constants.
//     The guard does not trust PostgreSQL's functional dependencies (GROUP BY
//     p.id then p.name): group by every column you output.
//   - No window functions (sum(count(*)) OVER () outputs a value per row);
//     they are allowed in subqueries and CTEs, for example to pick the first
//     MR of an issue with row_number().
//   - No GROUPING SETS, ROLLUP or CUBE: their subtotal rows let a reader
//     compute a suppressed group back (total minus the visible groups). Sum
//     the groups in the warehouse instead.
//   - No DISTINCT ON at the top (it outputs one row's values); allowed in
//     subqueries. Plain DISTINCT is allowed.
//   - No subquery in the select list outside an aggregate: a scalar subquery
//     yields a value no group stands behind. Subqueries in FROM, WHERE,
//     HAVING, FILTER and inside aggregate arguments are allowed.
//   - HAVING and FILTER (WHERE …) are predicates and allowed.
//   - The group_size column is count(*) or count(DISTINCT …) (FILTER
//     allowed), written bare in the select list; not a literal, a cast, a
//     sum or count(col).
//   - Output names become warehouse columns: lower-case letters, digits and
//     _, unique, not starting with _ (reserved for provenance columns). A
//     column PostgreSQL cannot name (?column?, as for avg(x) + 1) needs AS;
//     one it names after a function or column (date_trunc) is accepted, but
//     AS makes the table readable.
//
// # Red columns
//
// Red columns (Config.RedColumns, DefaultRedColumns by default: e-mails,
// encrypted_*, tokens, passwords, secrets, digests, IP addresses, user
// agents, private and SSH/GPG keys) may appear only as the argument of count
// or count(DISTINCT …), or in a predicate: WHERE, JOIN … ON, HAVING, FILTER
// (WHERE …), EXISTS. Anywhere else their value is red: in an output column,
// a GROUP BY key or ORDER BY, inside min/max/mode/percentile_disc (which
// return one person's value) or any other aggregate, in a CASE WHEN
// condition or a comparison in the select list (write count(*) FILTER
// (WHERE email LIKE '%@example.com') instead of grouping by the comparison).
//
// Red data is tracked through aliases, subqueries in FROM, LATERAL
// subqueries and functions, CTEs, set operations, scalar subqueries, field
// selection ((u).email), `*`, whole-row references and functions of the
// whole row in field notation (u.concat is concat(u), u.to_json is
// to_json(u), u.json_agg is json_agg(u)): a red column that
// reaches an output under another name is still red, and the message says
// which derived column carried it. A column is matched by name against the
// patterns, and `table.column` patterns against the base table an alias
// resolves to; a harmless column that happens to carry a red name (s.email)
// is treated as red: rename it.
//
// A JSON key or path that names a red column (details->>'ip_address',
// data #>> '{author,email}') is red as well.
//
// # What the guard does not do
//
// The group size counts the rows of a whole group; an aggregate over a
// FILTER (WHERE …) or a CASE inside the aggregate can cover fewer rows than
// that, down to one: max(created_at) FILTER (WHERE username = 'alice') is
// one person's value in a group of thousands. The guard cannot tell a
// legitimate subset (count(*) FILTER (WHERE merged)) from an isolating one;
// reviewers check every FILTER and CASE (queries/README.md).
//
// It cannot stop differencing across queries (one query counts everyone,
// another everyone but one group); reviewers look for that (see
// queries/README.md). It cannot know whether a name in FROM is a view that
// exposes red data under other names; GitLab's schema has no such views, and
// the read-only role of the source should not be granted any.
package guard
