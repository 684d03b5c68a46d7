// Package guard decides whether a query may leave the source database.
//
// Check parses the query with PostgreSQL's own parser (pg_query_go, the
// parser of PostgreSQL 17) and applies static rules; every violation carries
// the line and column of the offending token and a stable rule id. The
// runner checks again before every execution: CI having passed is never
// trusted. What the guard cannot decide statically, the runner checks at run
// time: the EXPLAIN cost, the type of every aggregate column, and the
// number of people behind every row and cell, which the guard's rewrite of
// the query (Analysis.SQL) computes and EntityFilter reads.
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
//   - Subqueries in the select list are allowed, as group keys (an EXISTS
//     on a label, a scalar subquery picking a severity:: label), judged by
//     what they read like any other expression.
//   - HAVING and FILTER (WHERE …) are predicates and allowed.
//   - The group_size column is count(*) or count(DISTINCT …) (FILTER
//     allowed), written bare in the select list; not a literal, a cast, a
//     sum or count(col). It is the author's metric; what protects people
//     is the entity count below.
//   - Output names become warehouse columns: lower-case letters, digits and
//     _, unique, not starting with _ (reserved for provenance columns). A
//     column PostgreSQL cannot name (?column?, as for avg(x) + 1) needs AS;
//     one it names after a function or column (date_trunc) is accepted, but
//     AS makes the table readable.
//
// # The schema catalog and column classes
//
// Every table and column is resolved against the reviewed schema catalog
// (package schema, schema.yml) as PostgreSQL resolves it: a qualified name
// in the relation of that alias; an unqualified one in the innermost FROM
// with a relation that has the column, then outward (so a name a subquery's
// own tables lack binds to the outer query, and keeps its class); an
// ambiguous or unknown name is an error. A table or column the catalog does
// not list cannot be read (guard/catalog, guard/column); system columns
// (xmin, ctid, tableoid, …) neither (guard/system-column); whole-row
// references (u, u.*, (u).x, u.concat read as concat(u)) neither
// (guard/whole-row).
//
// Every expression has the class of what it is made of, the most restricted
// winning: constant < measure < time < category < key < text < red.
//
//   - key (ids): joined, compared in WHERE/ON/FILTER/HAVING, counted
//     (count, count(DISTINCT …)), passed through a subquery's select list,
//     grouped by inside a subquery, partitioned by in a window. Never an
//     output or a top-level group key, never computed with (guard/key-column).
//   - text and red: as key, but in predicates only compared with a literal
//     (=, <>, IN (…), LIKE/ILIKE with a literal pattern, IS [NOT] NULL) or
//     joined by equality with a column of the same class; never under a
//     function, operator, cast, CASE or subscript (a JSON field of a text
//     column is text), never in ORDER BY, PARTITION BY or DISTINCT ON
//     (guard/red-column).
//   - time: a top-level group key only coarsened (date_trunc, extract,
//     ::date, …), not raw (guard/time-key).
//   - category, measure: free.
//
// A comparison outside WHERE/ON/FILTER/HAVING (in CASE WHEN, the select
// list, GROUP BY) may not read keys, text or red columns: it would put a
// person's id or value into a group key or an aggregate's argument.
//
// # Entities: the people behind every row
//
// The catalog lists, per table, the entity keys: the columns that identify
// the person behind a row (issues.author_id, members.user_id, users.id). The
// guard follows them from the base tables of the top-level FROM through
// joins, subqueries and CTEs (carried in hidden columns: passed through a
// SELECT that keeps rows, collected per group by one that aggregates, kept
// apart per table so that a join cannot hide a narrow side behind a wide
// one), and rewrites the query (rewrite.go; text is only added) to output,
// per row, the smallest number of distinct people among those tables
// (__mg_entities), and to set every aggregate cell whose own rows (under its
// FILTER, where its argument is not NULL) have fewer than k people to NULL.
// Within a row, the combinations of its additive cells' conditions (the
// atoms) must each hold none or at least k people, so that no two cells
// subtract to a few people. The runner drops the rows under min_group_size
// (EntityFilter), whatever the query says its group size is. A query whose
// rows have no countable entity is refused (guard/entity); header entity:
// namespace counts namespaces for tables that hold no person's rows
// (projects), and the people those rows name. A table without people whose
// times or measures a query reads is counted by its ids and the people its
// rows name.
//
// Subqueries in expressions (EXISTS, IN, scalar) are not counted: every
// table with people in them must be tied by equality to an entity key of
// the row around them (mb.user_id = m.author_id), so that they only tell
// something about people who are counted; otherwise guard/entity. Below the
// top level, SELECT DISTINCT, UNION, INTERSECT and EXCEPT over tables with
// people are refused (they merge rows of different people; use GROUP BY,
// UNION ALL), as are FILTERs that read keys, text or red columns (the
// subquery's row is counted as a whole). Window functions are limited to
// ranking and count(…) OVER: others carry another row's value.
//
// Regular expressions are literals without back-references (guard/regex):
// PostgreSQL matches back-references by backtracking.
//
// # What the guard does not do
//
// An aggregate over k people can still be dominated by one of them: max
// and min return one person's value; a CASE inside an aggregate can weight
// a few rows (sum(CASE WHEN state_id = 4 THEN x ELSE 0 END)). Two queries,
// or two rows, can be differenced (everyone, and everyone but one group).
// Reviewers look for both (queries/README.md, checklist); SECURITY.md lists
// these residual risks.
package guard
