package guard

import (
	"fmt"
	"strings"
	"testing"
)

// corpus is the guard's contract in examples: every accepted query comes
// back with no violation, every rejected one with exactly the listed
// violations, each given as "line:col rule: message prefix". The group-size
// column is always "n".
var corpus = []struct {
	name string
	sql  string
	want []string // nil: accepted
	cols string   // for accepted queries: "name:kind ..." of the output
}{
	// ---- accepted ----
	{name: "count only", sql: "SELECT count(*) AS n FROM issues", cols: "n:aggregate"},
	{name: "group by ordinal", sql: "SELECT date_trunc('month', created_at)::date AS month, count(*) AS n FROM issues GROUP BY 1", cols: "month:group key n:aggregate"},
	{name: "group by alias", sql: "SELECT date_trunc('month', created_at) AS month, count(*) AS n FROM issues GROUP BY month", cols: "month:group key n:aggregate"},
	{name: "group by expression", sql: "SELECT date_trunc('week', created_at) AS week, count(*) AS n FROM issues GROUP BY date_trunc('week', created_at)", cols: "week:group key n:aggregate"},
	{name: "qualified and unqualified key", sql: "SELECT i.project_id, count(*) AS n FROM issues i GROUP BY project_id", cols: "project_id:group key n:aggregate"},
	{name: "expression of group keys", sql: "SELECT extract(year FROM m) AS year, m, count(*) AS n FROM (SELECT date_trunc('month', created_at) AS m FROM issues) s GROUP BY m", cols: "year:group key m:group key n:aggregate"},
	{name: "count distinct", sql: "SELECT state_id, count(DISTINCT author_id) AS n FROM issues GROUP BY state_id", cols: "state_id:group key n:aggregate"},
	{name: "percentile_cont", sql: "SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM merged_at - created_at)) AS median FROM merge_request_metrics", cols: "n:aggregate median:aggregate"},
	{name: "constant output", sql: "SELECT 'all' AS scope, count(*) AS n FROM projects", cols: "scope:constant n:aggregate"},
	{name: "join with on", sql: "SELECT p.visibility_level, count(*) AS n FROM projects p JOIN namespaces ns ON ns.id = p.namespace_id WHERE ns.visibility_level = 20 GROUP BY 1", cols: "visibility_level:group key n:aggregate"},
	{name: "red in where", sql: "SELECT count(*) AS n FROM users WHERE email LIKE '%@gitlab.com'", cols: "n:aggregate"},
	{name: "red in join on", sql: "SELECT count(*) AS n FROM users u JOIN emails e ON e.email = u.email", cols: "n:aggregate"},
	{name: "red in having", sql: "SELECT state, count(*) AS n FROM users GROUP BY state HAVING count(DISTINCT email) > 10", cols: "state:group key n:aggregate"},
	{name: "red counted distinct", sql: "SELECT count(DISTINCT email) AS emails, count(*) AS n FROM users", cols: "emails:aggregate n:aggregate"},
	{name: "red in filter", sql: "SELECT count(*) FILTER (WHERE u.email LIKE '%@gitlab.com') AS staff, count(*) AS n FROM users u", cols: "staff:aggregate n:aggregate"},
	{name: "red counted through subquery", sql: "SELECT count(DISTINCT s.e) AS n FROM (SELECT email AS e FROM users) s", cols: "n:aggregate"},
	{name: "red in exists", sql: "SELECT count(*) AS n FROM issues i WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = i.author_id AND u.email LIKE '%@x.org')", cols: "n:aggregate"},
	{name: "red in subquery predicate", sql: "SELECT count(*) AS n FROM issues WHERE author_id IN (SELECT id FROM users WHERE email NOT LIKE '%@gitlab.com')", cols: "n:aggregate"},
	{name: "cte", sql: "WITH m AS (SELECT date_trunc('month', created_at) AS month FROM issues) SELECT month, count(*) AS n FROM m GROUP BY month", cols: "month:group key n:aggregate"},
	{name: "window in subquery", sql: "SELECT count(*) AS n FROM (SELECT row_number() OVER (PARTITION BY issue_id ORDER BY created_at) AS rn FROM merge_requests_closing_issues) s WHERE rn = 1", cols: "n:aggregate"},
	{name: "distinct on in subquery", sql: "SELECT count(*) AS n FROM (SELECT DISTINCT ON (issue_id) issue_id, created_at FROM merge_requests_closing_issues ORDER BY issue_id, created_at) s", cols: "n:aggregate"},
	{name: "union of aggregates", sql: "SELECT 'issues' AS kind, count(*) AS n FROM issues UNION ALL SELECT 'mrs', count(*) FROM merge_requests", cols: "kind:constant n:aggregate"},
	{name: "case on group keys", sql: "SELECT CASE WHEN visibility_level = 20 THEN 'public' ELSE 'other' END AS vis, count(*) AS n FROM projects GROUP BY 1", cols: "vis:group key n:aggregate"},
	{name: "aggregate of case", sql: "SELECT sum(CASE WHEN confidential THEN 1 ELSE 0 END) AS conf, count(*) AS n FROM issues", cols: "conf:aggregate n:aggregate"},
	{name: "subquery inside aggregate", sql: "SELECT sum((SELECT count(*) FROM notes WHERE notes.noteable_id = i.id)) AS notes, count(*) AS n FROM issues i", cols: "notes:aggregate n:aggregate"},
	{name: "exists inside filter", sql: "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM notes WHERE noteable_id = i.id)) AS discussed, count(*) AS n FROM issues i", cols: "discussed:aggregate n:aggregate"},
	{name: "order by and limit", sql: "SELECT project_id, count(*) AS n FROM issues GROUP BY 1 ORDER BY 2 DESC LIMIT 100", cols: "project_id:group key n:aggregate"},
	{name: "plain distinct", sql: "SELECT DISTINCT state_id, count(*) AS n FROM issues GROUP BY 1", cols: "state_id:group key n:aggregate"},
	{name: "group by empty set", sql: "SELECT count(*) AS n FROM issues GROUP BY ()", cols: "n:aggregate"},
	{name: "pg_catalog qualified", sql: "SELECT pg_catalog.count(*) AS n, pg_catalog.avg(weight) AS w FROM issues", cols: "n:aggregate w:aggregate"},
	{name: "extract and at time zone", sql: "SELECT extract(dow FROM created_at AT TIME ZONE 'UTC') AS dow, count(*) AS n FROM issues GROUP BY 1", cols: "dow:group key n:aggregate"},
	{name: "current_date", sql: "SELECT count(*) AS n FROM issues WHERE created_at > current_date - interval '30 days'", cols: "n:aggregate"},
	{name: "generate_series in from", sql: "SELECT d::date AS day, count(i.id) AS issues, count(*) AS n FROM generate_series(now() - interval '7 days', now(), interval '1 day') AS d LEFT JOIN issues i ON date_trunc('day', i.created_at) = d GROUP BY 1", cols: "day:group key issues:aggregate n:aggregate"},
	{name: "traversal ids", sql: "SELECT cardinality(traversal_ids) AS depth, count(*) AS n FROM namespaces GROUP BY 1", cols: "depth:group key n:aggregate"},
	{name: "json operator", sql: "SELECT count(*) AS n FROM ci_pipelines WHERE source = 1", cols: "n:aggregate"},
	{name: "comments hide nothing", sql: "-- description: x\n/* block */ SELECT count(*) AS n -- trailing\nFROM issues", cols: "n:aggregate"},
	{name: "trailing semicolon", sql: "SELECT count(*) AS n FROM issues;", cols: "n:aggregate"},
	{name: "lateral derived from safe column", sql: "SELECT x.l, count(*) AS n FROM issues i, LATERAL (SELECT length(i.title) / 10 AS l) x GROUP BY 1", cols: "l:group key n:aggregate"},
	{name: "avg of interval", sql: "SELECT avg(merged_at - created_at) AS avg_time, count(*) AS n FROM merge_request_metrics", cols: "avg_time:aggregate n:aggregate"},

	// ---- statements ----
	{name: "delete", sql: "DELETE FROM users", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a DELETE statement"}},
	{name: "insert", sql: "INSERT INTO users (id) VALUES (1)", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a INSERT statement"}},
	{name: "update", sql: "UPDATE users SET admin = true", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a UPDATE statement"}},
	{name: "drop", sql: "DROP TABLE users", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a DROP statement"}},
	{name: "create table as", sql: "CREATE TABLE x AS SELECT count(*) AS n FROM users", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a CREATE TABLE AS statement"}},
	{name: "copy", sql: "COPY users TO '/tmp/x'", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a COPY statement"}},
	{name: "copy program", sql: "COPY (SELECT 1) TO PROGRAM 'curl x'", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a COPY statement"}},
	{name: "set", sql: "SET statement_timeout = 0", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a SET statement"}},
	{name: "explain analyze", sql: "EXPLAIN ANALYZE SELECT count(*) AS n FROM issues", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a EXPLAIN statement"}},
	{name: "do block", sql: "DO $$ BEGIN PERFORM 1; END $$", want: []string{"1:1 guard/statement: only a plain SELECT is allowed; this is a DO statement"}},
	{name: "header then delete", sql: "-- description: x\n-- owner: @a\nDELETE FROM users", want: []string{"3:1 guard/statement: only a plain SELECT is allowed; this is a DELETE statement"}},
	{name: "two statements", sql: "SELECT count(*) AS n FROM issues;\nDELETE FROM users", want: []string{"2:1 guard/statement: only one statement is allowed; found 2"}},
	{name: "statement hidden after comment", sql: "SELECT count(*) AS n FROM issues; /* */ DROP TABLE users", want: []string{"1:41 guard/statement: only one statement is allowed; found 2"}},
	{name: "no statement", sql: "-- description: only a header\n", want: []string{"2:1 guard/statement: no SQL statement after the header"}},
	{name: "syntax error", sql: "SELECT count(*) AS n FROM issues WHERE", want: []string{"1:39 guard/syntax: syntax error: syntax error at end of input"}},
	{name: "syntax error multibyte", sql: "SELECT 'ü' AS x, count(*) AS n FROM issues WHER x", want: []string{"1:49 guard/syntax: syntax error: syntax error at or near \"x\""}},
	// A chain of 22,000 operators crashed the process in pg_query's C
	// code; 5,000 gave "parse: proto: exceeded maximum recursion depth".
	{name: "operator chain crashes the parser", sql: "SELECT count(*) AS n FROM t WHERE " + strings.Repeat("1+", 25000) + "1 > 0", want: []string{"1:8036 guard/nesting: expressions nest too deeply here (more than 4000 levels"}},
	{name: "operator chain too deep to decode", sql: "SELECT count(*) AS n FROM t WHERE " + strings.Repeat("1+", 5000) + "1 > 0", want: []string{"1:8036 guard/nesting: expressions nest too deeply here"}},
	{name: "casts nested in parentheses", sql: "SELECT count(*) AS n FROM t WHERE " + strings.Repeat("(1::int", 3000) + strings.Repeat(")", 3000) + " > 0", want: []string{"1:14035 guard/nesting: expressions nest too deeply here"}},
	{name: "long chain within the limit", sql: "SELECT count(*) AS n FROM t WHERE " + strings.Repeat("1+", 3000) + "1 > 0", cols: "n:aggregate"},
	// 40 KB of /* took 23 s to scan and parse: quadratic in the run.
	{name: "operator character run", sql: "SELECT count(*) AS n FROM t " + strings.Repeat("/*", 150) + strings.Repeat("*/", 150), want: []string{"1:29 guard/operator-run: a run of 600 operator characters"}},
	{name: "operator run within the limit", sql: "SELECT count(*) AS n FROM t /* " + strings.Repeat("=", 250) + " */", cols: "n:aggregate"},
	{name: "nul byte", sql: "SELECT count(*) AS n FROM issues\x00; DROP TABLE users", want: []string{"1:33 guard/encoding: NUL byte in the query text"}},
	{name: "invalid utf8", sql: "SELECT count(*) AS n FROM issues WHERE title = '\xff'", want: []string{"1:49 guard/encoding: query text is not valid UTF-8"}},
	{name: "select into", sql: "SELECT count(*) AS n INTO stolen FROM issues", want: []string{"1:22 guard/into: SELECT … INTO creates a table"}},
	{name: "for update", sql: "SELECT count(*) AS n FROM issues FOR UPDATE", want: []string{"1:34 guard/locking: locking clause (FOR UPDATE/SHARE)"}},
	{name: "for share in subquery", sql: "SELECT count(*) AS n FROM (SELECT id FROM issues FOR SHARE) s", want: []string{"1:50 guard/locking: locking clause (FOR UPDATE/SHARE)"}},
	{name: "data-modifying cte", sql: "WITH d AS (DELETE FROM issues RETURNING id) SELECT count(*) AS n FROM d", want: []string{"1:6 guard/data-modifying-cte: CTE \"d\" is a DELETE statement"}},
	{name: "update cte", sql: "WITH u AS (UPDATE users SET admin = true RETURNING id) SELECT count(*) AS n FROM u", want: []string{"1:6 guard/data-modifying-cte: CTE \"u\" is a UPDATE statement"}},
	{name: "recursive cte", sql: "WITH RECURSIVE t(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM t) SELECT count(*) AS n FROM t", want: []string{"1:1 guard/recursive-cte: WITH RECURSIVE is not allowed"}},
	{name: "parameter", sql: "SELECT count(*) AS n FROM issues WHERE project_id = $1", want: []string{"1:53 guard/parameter: parameter $1 is not allowed"}},
	{name: "tablesample", sql: "SELECT count(*) AS n FROM issues TABLESAMPLE SYSTEM (1)", want: []string{"1:46 guard/tablesample: TABLESAMPLE is not allowed"}},

	// ---- functions ----
	{name: "pg_read_file", sql: "SELECT count(*) AS n FROM issues WHERE pg_read_file('/etc/passwd') <> ''", want: []string{"1:40 guard/function: function pg_read_file() is not allowed: it reads files on the database server"}},
	{name: "dblink", sql: "SELECT count(*) AS n FROM dblink('host=evil', 'select 1') AS t(x int)", want: []string{"1:27 guard/function: function dblink() is not allowed: it connects to other databases"}},
	{name: "set_config", sql: "SELECT count(*) AS n FROM issues WHERE set_config('statement_timeout', '0', false) IS NOT NULL", want: []string{"1:40 guard/function: function set_config() is not allowed: it changes session settings"}},
	{name: "pg_sleep", sql: "SELECT count(*) AS n FROM issues WHERE pg_sleep(100) IS NULL", want: []string{"1:40 guard/function: function pg_sleep() is not allowed: it holds the snapshot open"}},
	{name: "nextval", sql: "SELECT count(*) AS n, max(nextval('issues_id_seq')) AS s FROM issues", want: []string{"1:27 guard/function: function nextval() is not allowed: it writes to a sequence"}},
	{name: "lo_import", sql: "SELECT count(*) AS n FROM issues WHERE lo_import('/etc/passwd') > 0", want: []string{"1:40 guard/function: function lo_import() is not allowed: it reads files into large objects"}},
	{name: "lo_ family", sql: "SELECT count(*) AS n FROM issues WHERE lo_creat(-1) > 0", want: []string{"1:40 guard/function: function lo_creat() is not allowed: it touches large objects"}},
	{name: "advisory lock", sql: "SELECT count(*) AS n FROM issues WHERE pg_advisory_lock(1) IS NULL", want: []string{"1:40 guard/function: function pg_advisory_lock() is not allowed: it takes locks"}},
	{name: "txid", sql: "SELECT txid_current() AS t, count(*) AS n FROM issues GROUP BY 1", want: []string{"1:8 guard/function: function txid_current() is not allowed: it reads transaction state"}},
	{name: "unknown user function", sql: "SELECT count(*) AS n FROM issues WHERE public.leak(title)", want: []string{"1:40 guard/function: function public.leak is not allowed: only built-in functions are"}},
	{name: "unknown function", sql: "SELECT my_func(id) AS x, count(*) AS n FROM issues GROUP BY 1", want: []string{"1:8 guard/function: function my_func() is not allowed: it is not on the allowlist"}},
	{name: "current_user", sql: "SELECT current_user AS u, count(*) AS n FROM issues GROUP BY 1", want: []string{"1:8 guard/function: current_user is not allowed"}},
	{name: "qualified operator", sql: "SELECT count(*) AS n FROM issues WHERE id OPERATOR(public.===) 1", want: []string{"1:43 guard/operator: operator public.=== is not allowed"}},
	{name: "query_to_xml", sql: "SELECT count(*) AS n FROM issues WHERE query_to_xml('select 1', true, true, '') IS NOT NULL", want: []string{"1:40 guard/function: function query_to_xml() is not allowed"}},
	{name: "system catalog", sql: "SELECT count(*) AS n FROM pg_authid", want: []string{"1:27 guard/system-catalog: system catalog pg_authid is not analytics data"}},
	{name: "system catalog qualified", sql: "SELECT count(*) AS n FROM pg_catalog.pg_stat_activity", want: []string{"1:27 guard/system-catalog: system catalog pg_catalog.pg_stat_activity"}},
	{name: "information_schema", sql: "SELECT count(*) AS n FROM information_schema.tables", want: []string{"1:27 guard/system-catalog: system catalog information_schema.tables"}},

	// ---- collecting aggregates ----
	{name: "string_agg", sql: "SELECT string_agg(title, ',') AS t, count(*) AS n FROM issues", want: []string{"1:8 guard/collecting-aggregate: string_agg() collects the rows of a group"}},
	{name: "array_agg", sql: "SELECT array_agg(id) AS ids, count(*) AS n FROM issues", want: []string{"1:8 guard/collecting-aggregate: array_agg() collects"}},
	{name: "json_agg", sql: "SELECT json_agg(i) AS rows, count(*) AS n FROM issues i", want: []string{"1:8 guard/collecting-aggregate: json_agg() collects", "1:17 guard/red-column: red column the whole rows of i is inside json_agg()"}},
	{name: "jsonb_object_agg", sql: "SELECT jsonb_object_agg(id, title) AS o, count(*) AS n FROM issues", want: []string{"1:8 guard/collecting-aggregate: jsonb_object_agg() collects"}},
	{name: "xmlagg", sql: "SELECT count(*) AS n FROM (SELECT xmlagg(xmlelement(name x, title)) AS x FROM issues) s", want: []string{"1:35 guard/collecting-aggregate: xmlagg() collects", "1:42 guard/function: XML functions are not allowed"}},
	{name: "collecting in subquery", sql: "SELECT count(*) AS n FROM (SELECT array_agg(title) AS t FROM issues) s", want: []string{"1:35 guard/collecting-aggregate: array_agg() collects"}},
	{name: "json_arrayagg", sql: "SELECT JSON_ARRAYAGG(title) AS t, count(*) AS n FROM issues", want: []string{"1:8 guard/collecting-aggregate: JSON_ARRAYAGG collects"}},

	// ---- aggregate-only ----
	{name: "bare column", sql: "SELECT title, count(*) AS n FROM issues", want: []string{"1:8 guard/not-aggregate: output column \"title\" uses title outside an aggregate"}},
	{name: "bare column not in group by", sql: "SELECT project_id, title, count(*) AS n FROM issues GROUP BY project_id", want: []string{"1:20 guard/not-aggregate: output column \"title\" uses title outside an aggregate"}},
	{name: "select star", sql: "SELECT * FROM issues", want: []string{"1:1 guard/group-size: group_size column \"n\" (from the header) is not in the select list; the output columns are: (none)", "1:8 guard/not-aggregate: SELECT * outputs rows"}},
	{name: "values", sql: "VALUES (1, 2)", want: []string{"1:1 guard/group-size: group_size column \"n\" (from the header) is not in the select list", "1:1 guard/not-aggregate: VALUES outputs rows, not aggregates"}},
	{name: "union branch not aggregate", sql: "SELECT 'a' AS k, count(*) AS n FROM issues UNION ALL SELECT title, 1 FROM issues", want: []string{"1:61 guard/not-aggregate: output column \"title\" uses title", "1:68 guard/group-size: group_size column \"n\" must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is a literal"}},
	{name: "window top level", sql: "SELECT count(*) AS n, sum(count(*)) OVER () AS total FROM issues", want: []string{"1:23 guard/window: window function sum() OVER (…) in the top-level SELECT"}},
	{name: "row_number top level", sql: "SELECT project_id, row_number() OVER (ORDER BY project_id) AS r, count(*) AS n FROM issues GROUP BY 1", want: []string{"1:20 guard/window: window function row_number() OVER (…)"}},
	{name: "window in order by", sql: "SELECT project_id, count(*) AS n FROM issues GROUP BY 1 ORDER BY rank() OVER (ORDER BY count(*))", want: []string{"1:66 guard/window: window function rank() OVER (…)"}},
	{name: "rollup", sql: "SELECT state_id, count(*) AS n FROM issues GROUP BY ROLLUP (state_id)", want: []string{"1:53 guard/grouping-sets: GROUPING SETS, ROLLUP and CUBE"}},
	{name: "cube", sql: "SELECT state_id, count(*) AS n FROM issues GROUP BY CUBE (state_id)", want: []string{"1:53 guard/grouping-sets: GROUPING SETS, ROLLUP and CUBE"}},
	{name: "grouping sets", sql: "SELECT state_id, count(*) AS n FROM issues GROUP BY GROUPING SETS ((state_id), ())", want: []string{"1:53 guard/grouping-sets: GROUPING SETS, ROLLUP and CUBE"}},
	{name: "distinct on top", sql: "SELECT DISTINCT ON (project_id) project_id, count(*) AS n FROM issues GROUP BY 1", want: []string{"1:8 guard/distinct-on: DISTINCT ON in the top-level SELECT"}},
	{name: "scalar subquery in select", sql: "SELECT (SELECT title FROM issues LIMIT 1) AS t, count(*) AS n FROM issues", want: []string{"1:8 guard/scalar-subquery: subquery in the select list"}},
	{name: "scalar subquery in group by", sql: "SELECT count(*) AS n FROM issues GROUP BY (SELECT 1)", want: nil, cols: "n:aggregate"},
	{name: "group by position out of range", sql: "SELECT count(*) AS n FROM issues GROUP BY 2", want: []string{"1:43 guard/not-aggregate: GROUP BY position 2 is not in the select list"}},
	{name: "aggregate in group by", sql: "SELECT count(*) AS n FROM issues GROUP BY 1", want: []string{"1:43 guard/not-aggregate: GROUP BY must not contain an aggregate"}},
	{name: "aggregate output named in group by", sql: "SELECT count(*) AS n FROM issues GROUP BY n", want: []string{"1:43 guard/not-aggregate: GROUP BY n names the aggregate output \"n\""}},
	{name: "functional dependency not trusted", sql: "SELECT p.id, p.name, count(*) AS n FROM projects p JOIN issues i ON i.project_id = p.id GROUP BY p.id", want: []string{"1:14 guard/not-aggregate: output column \"name\" uses p.name outside an aggregate"}},

	// ---- red columns ----
	{name: "red output", sql: "SELECT email, count(*) AS n FROM users GROUP BY email", want: []string{"1:8 guard/red-column: red column users.email reaches output column \"email\""}},
	{name: "red group key only", sql: "SELECT count(*) AS n FROM users GROUP BY last_sign_in_ip", want: []string{"1:42 guard/red-column: red column users.last_sign_in_ip reaches GROUP BY key"}},
	{name: "red in max", sql: "SELECT max(email) AS m, count(*) AS n FROM users", want: []string{"1:12 guard/red-column: red column users.email is inside max() in output column \"m\": max() returns one person's value"}},
	{name: "red in min", sql: "SELECT min(encrypted_password) AS m, count(*) AS n FROM users", want: []string{"1:12 guard/red-column: red column users.encrypted_password is inside min()"}},
	{name: "red in mode", sql: "SELECT mode() WITHIN GROUP (ORDER BY current_sign_in_ip) AS ip, count(*) AS n FROM users", want: []string{"1:38 guard/red-column: red column users.current_sign_in_ip is inside mode()"}},
	{name: "red via expression", sql: "SELECT lower(email) AS e, count(*) AS n FROM users GROUP BY 1", want: []string{"1:14 guard/red-column: red column users.email reaches output column \"e\""}},
	{name: "red via comparison output", sql: "SELECT email LIKE '%@gitlab.com' AS staff, count(*) AS n FROM users GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email reaches output column \"staff\""}},
	{name: "red via case condition", sql: "SELECT CASE WHEN email LIKE '%@gitlab.com' THEN 'staff' ELSE 'other' END AS kind, count(*) AS n FROM users GROUP BY 1", want: []string{"1:18 guard/red-column: red column users.email reaches output column \"kind\""}},
	{name: "red through subquery", sql: "SELECT e, count(*) AS n FROM (SELECT email AS e FROM users) s GROUP BY e", want: []string{"1:8 guard/red-column: red column users.email through s.e reaches output column \"e\""}},
	{name: "red through cte", sql: "WITH x AS (SELECT public_email AS pe FROM users) SELECT pe, count(*) AS n FROM x GROUP BY 1", want: []string{"1:57 guard/red-column: red column users.public_email through x.pe reaches output column \"pe\""}},
	{name: "red through two levels", sql: "SELECT b, count(*) AS n FROM (SELECT a AS b FROM (SELECT feed_token AS a FROM users) s1) s2 GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.feed_token through s2.b reaches output column \"b\""}},
	{name: "red max through subquery", sql: "SELECT max(x) AS m, count(*) AS n FROM (SELECT email AS x FROM users) s", want: []string{"1:12 guard/red-column: red column users.email through s.x is inside max()"}},
	{name: "red max inside subquery", sql: "SELECT m, count(*) AS n FROM (SELECT max(email) AS m FROM users GROUP BY state) s GROUP BY m", want: []string{"1:8 guard/red-column: red column users.email through s.m is inside max()"}},
	{name: "red through union in subquery", sql: "SELECT x, count(*) AS n FROM (SELECT username AS x FROM users UNION SELECT email FROM users) s GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email through s.x reaches output column \"x\""}},
	{name: "red through star subquery", sql: "SELECT s.email, count(*) AS n FROM (SELECT * FROM users) s GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email reaches output column \"email\""}},
	{name: "red through renamed derived columns", sql: "SELECT x, count(*) AS n FROM (SELECT id, email FROM users) s(i, x) GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email through s.x reaches output column \"x\""}},
	{name: "red through lateral function", sql: "SELECT x.e, count(*) AS n FROM users u, LATERAL unnest(ARRAY[u.email]) AS x(e) GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email through x.e reaches output column \"e\""}},
	{name: "red through scalar subquery in derived table", sql: "SELECT t, count(*) AS n FROM (SELECT (SELECT email FROM users u WHERE u.id = i.author_id) AS t FROM issues i) s GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email through s.t reaches output column \"t\""}},
	{name: "red field selection", sql: "SELECT (u).email AS e, count(*) AS n FROM users u GROUP BY 1", want: []string{"1:9 guard/red-column: red column email reaches output column \"e\""}},
	{name: "whole row group key", sql: "SELECT count(*) AS n FROM users u GROUP BY u", want: []string{"1:44 guard/red-column: red column the whole rows of u reaches GROUP BY key"}},
	{name: "red in order by", sql: "SELECT state, count(*) AS n FROM users GROUP BY state ORDER BY max(email)", want: []string{"1:68 guard/red-column: red column users.email is inside max() in ORDER BY"}},
	{name: "table column aliases", sql: "SELECT b, count(*) AS n FROM users AS u(a, b) GROUP BY 1", want: []string{"1:30 guard/table-column-aliases: column aliases on table users"}},
	{name: "join column aliases", sql: "SELECT count(*) AS n FROM (users u JOIN issues i ON i.author_id = u.id) AS j(a, b)", want: []string{"1:28 guard/table-column-aliases: column aliases on a join"}},
	{name: "star renamed by subquery aliases", sql: "SELECT x, count(*) AS n FROM (SELECT * FROM users) s(a, b, c, x) GROUP BY 1", want: []string{"1:38 guard/table-column-aliases: column aliases on s (… AS s(…)) rename the columns of * blindly"}},
	{name: "star renamed by cte aliases", sql: "WITH w(a, x) AS (SELECT * FROM users) SELECT x, count(*) AS n FROM w GROUP BY 1", want: []string{"1:25 guard/table-column-aliases: column aliases on CTE w"}},
	{name: "star renamed at cte reference", sql: "WITH w AS (SELECT u.* FROM users u) SELECT x, count(*) AS n FROM w AS v(a, x) GROUP BY 1", want: []string{"1:19 guard/table-column-aliases: column aliases on v"}},
	{name: "table renamed by lateral aliases", sql: "SELECT l.e, count(*) AS n FROM users, LATERAL (SELECT users.*) l(a, e) GROUP BY 1", want: []string{"1:55 guard/table-column-aliases: column aliases on l"}},
	{name: "named columns renamed", sql: "SELECT x, count(*) AS n FROM (SELECT id, state FROM users) s(i, x) GROUP BY 1", cols: "x:group key n:aggregate"},
	{name: "qualified collation", sql: "SELECT count(*) AS n FROM issues i WHERE i.title COLLATE public.evil > ''", want: []string{"1:50 guard/type: collation public.evil is not allowed: only built-in collations are"}},
	{name: "built-in collation", sql: "SELECT count(*) AS n FROM issues i WHERE i.title COLLATE pg_catalog.\"C\" > ''", cols: "n:aggregate"},
	{name: "regclass cast", sql: "SELECT count(*) AS n FROM issues WHERE 'pg_authid'::regclass::oid > 0", want: []string{"1:53 guard/system-catalog: type regclass is not allowed: a cast to it looks names up in the system catalogs"}},
	{name: "regproc cast", sql: "SELECT count(*) AS n FROM issues WHERE title::pg_catalog.regproc IS NULL", want: []string{"1:47 guard/system-catalog: type regproc is not allowed"}},
	// PostgreSQL calls a function of the whole row in field notation: these
	// were accepted, and u.concat is every column of users as text.
	{name: "whole row through field notation", sql: "SELECT u.concat AS c, count(*) AS n FROM users u, generate_series(1, 10) g GROUP BY 1", want: []string{"1:8 guard/red-column: red column the whole rows of u through u.concat (that is concat(u)) reaches output column \"c\""}},
	{name: "aggregate through field notation", sql: "SELECT count(*) AS n, max(length(u.json_agg::text)) AS l FROM users u", want: []string{"1:34 guard/red-column: red column the whole rows of u through u.json_agg (that is json_agg(u)) is inside max()"}},
	{name: "field notation on a star subquery", sql: "SELECT s.record_out AS r, count(*) AS n FROM (SELECT * FROM users) s GROUP BY 1", want: []string{"1:8 guard/red-column: red column the whole rows of s through s.record_out (that is record_out(s))"}},
	{name: "a derived column named like a function", sql: "SELECT s.count AS c, count(*) AS n FROM (SELECT project_id, count(*) FROM issues GROUP BY 1) s GROUP BY 1", cols: "c:group key n:aggregate"},
	{name: "field notation in a predicate", sql: "SELECT count(*) AS n FROM users u WHERE u.to_json::text LIKE '%gitlab%'", cols: "n:aggregate"},
	{name: "red sum", sql: "SELECT sum(length(encrypted_password)) AS l, count(*) AS n FROM users", want: []string{"1:19 guard/red-column: red column users.encrypted_password is inside sum()"}},
	{name: "red qualified pattern", sql: "SELECT k.key AS key, count(*) AS n FROM keys k GROUP BY 1", want: []string{"1:8 guard/red-column: red column keys.key reaches output column \"key\""}},
	{name: "red token digest", sql: "SELECT token_digest AS t, count(*) AS n FROM personal_access_tokens GROUP BY 1", want: []string{"1:8 guard/red-column: red column personal_access_tokens.token_digest reaches output column \"t\""}},
	{name: "red in percentile_disc", sql: "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY last_sign_in_ip) AS ip, count(*) AS n FROM users", want: []string{"1:52 guard/red-column: red column users.last_sign_in_ip is inside percentile_disc()"}},
	{name: "red json key", sql: "SELECT details->>'ip_address' AS ip, count(*) AS n FROM audit_events GROUP BY 1", want: []string{"1:15 guard/red-column: red column JSON key ip_address reaches output column \"ip\""}},
	{name: "red json path", sql: "SELECT details #>> '{author,email}' AS e, count(*) AS n FROM audit_events GROUP BY 1", want: []string{"1:16 guard/red-column: red column JSON key email reaches output column \"e\""}},
	{name: "harmless json key", sql: "SELECT details->>'action' AS action, count(*) AS n FROM audit_events GROUP BY 1", cols: "action:group key n:aggregate"},
	{name: "red unicode escape identifier", sql: "SELECT U&\"\\0065mail\" AS x, count(*) AS n FROM users GROUP BY 1", want: []string{"1:8 guard/red-column: red column users.email reaches output column \"x\""}},

	// ---- group size and names ----
	{name: "group size missing", sql: "SELECT count(*) AS total FROM issues", want: []string{"1:1 guard/group-size: group_size column \"n\" (from the header) is not in the select list; the output columns are: total"}},
	{name: "group size literal", sql: "SELECT 1000 AS n, avg(weight) AS w FROM issues", want: []string{"1:8 guard/group-size: group_size column \"n\" must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is a literal"}},
	{name: "group size sum", sql: "SELECT sum(weight) AS n FROM issues", want: []string{"1:8 guard/group-size: group_size column \"n\" must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is sum(…)"}},
	{name: "group size count column", sql: "SELECT count(weight) AS n FROM issues", want: []string{"1:8 guard/group-size: group_size column \"n\" must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is count(…) without DISTINCT"}},
	{name: "group size cast", sql: "SELECT count(*)::int AS n FROM issues", want: []string{"1:8 guard/group-size: group_size column \"n\" must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is a cast"}},
	{name: "group size expression", sql: "SELECT count(*) * 100 AS n FROM issues", want: []string{"1:8 guard/group-size: group_size column \"n\" must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is an expression"}},
	{name: "unnamed column", sql: "SELECT count(*) AS n, avg(weight) + 1 FROM issues", want: []string{"1:23 guard/output-name: output column 2 has no name: add AS <name>"}},
	{name: "reserved name", sql: "SELECT count(*) AS n, avg(weight) AS _run_id FROM issues", want: []string{"1:23 guard/output-name: output column name \"_run_id\" starts with _"}},
	{name: "quoted name", sql: "SELECT count(*) AS n, avg(weight) AS \"Avg Weight\" FROM issues", want: []string{"1:23 guard/output-name: output column name \"Avg Weight\" must be lower-case letters"}},
	{name: "duplicate name", sql: "SELECT count(*) AS n, avg(weight) AS n FROM issues", want: []string{"1:23 guard/output-name: output column name \"n\" is used twice (columns 1 and 2)"}},
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	g := testGuard(t)
	rejected := 0
	for _, tc := range corpus {
		t.Run(tc.name, func(t *testing.T) {
			an, vs := g.Check(tc.sql, "n")
			var got []string
			for _, v := range vs {
				got = append(got, fmt.Sprintf("%d:%d %s: %s", v.Line, v.Col, v.Rule, v.Message))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("violations:\n  got  %q\n  want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("violation %d:\n  got  %s\n  want %s…", i, got[i], tc.want[i])
				}
			}
			if tc.want == nil {
				var cols []string
				for _, c := range an.Columns {
					cols = append(cols, c.Name+":"+c.Kind.String())
				}
				if g := strings.Join(cols, " "); g != tc.cols {
					t.Errorf("columns: got %q, want %q", g, tc.cols)
				}
			}
		})
		if tc.want != nil {
			rejected++
		}
	}
	if len(corpus) < 60 || rejected < 40 {
		t.Errorf("corpus too small: %d cases, %d rejections", len(corpus), rejected)
	}
}
