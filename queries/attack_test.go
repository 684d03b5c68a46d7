package queries_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// TestEntityAttacks runs queries that try to get one person's data out
// through rows the guard accepts statically, on GitLab-shaped data, the way
// the runner runs them (the guard's rewrite, the entity filter), and checks
// that nothing of that person leaves: no row, or the narrowed cell NULL in
// every row that is kept. A query the guard refuses passes too: it never
// runs. In a query, %[1]d is the id of the most active user, %[2]s their
// username, %[3]d one of their merged merge requests, %[4]d a pending
// invitation (a member row without a user) and %[5]s the start of its
// e-mail, %[6]s the username of the user who merged the most, %[7]s the
// first user's creation time, %[8]d a star count one project has alone,
// %[9]s and %[10]s a day of sign-up of fewer than k people, in the middle
// of the users, and the day after, %[11]s a day before which every project
// has one creator.
func TestEntityAttacks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	conn := fakeGitLab(t)
	var victim, mr int64
	var username string
	if err := conn.QueryRow(ctx, `SELECT author_id FROM events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT u.username, max(mm.merge_request_id) FROM users u
		JOIN merge_requests m ON m.author_id = u.id JOIN merge_request_metrics mm ON mm.merge_request_id = m.id AND mm.merged_at IS NOT NULL
		WHERE u.id = $1 GROUP BY 1`, victim).Scan(&username, &mr); err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	const k = 10
	// A check returns whether rows leak the victim's data; the test
	// asserts the query run as written does, and the rewrite does not.
	noRows := func(cols []string, rows [][]any) bool { return len(rows) > 0 }
	nullColumn := func(name string) func([]string, [][]any) bool {
		return func(cols []string, rows [][]any) bool {
			i := indexOf(cols, name)
			for _, r := range rows {
				if r[i] != nil {
					return true
				}
			}
			return false
		}
	}
	var invite int64
	var inviteEmail string
	if err := conn.QueryRow(ctx, `SELECT id, invite_email FROM members WHERE user_id IS NULL AND invite_email IS NOT NULL ORDER BY id LIMIT 1`).Scan(&invite, &inviteEmail); err != nil {
		t.Fatal(err)
	}
	var created string
	if err := conn.QueryRow(ctx, `SELECT created_at::text FROM users WHERE id = $1`, victim).Scan(&created); err != nil {
		t.Fatal(err)
	}
	nonZero := func(name string) func([]string, [][]any) bool {
		return func(cols []string, rows [][]any) bool {
			i := indexOf(cols, name)
			for _, r := range rows {
				if r[i] != nil && fmt.Sprint(r[i]) != "0" {
					return true
				}
			}
			return false
		}
	}
	// day and nextDay bound a day of sign-up in the middle of the users,
	// which fewer than k people share.
	var day, nextDay string
	var sameDay int
	if err := conn.QueryRow(ctx, `SELECT d::text, (d + 1)::text, (SELECT count(*) FROM users WHERE created_at::date = d)
		FROM (SELECT created_at::date AS d FROM users ORDER BY created_at OFFSET (SELECT count(*) / 2 FROM users) LIMIT 1) x`).Scan(&day, &nextDay, &sameDay); err != nil {
		t.Fatal(err)
	}
	if sameDay < 1 || sameDay >= k {
		t.Fatalf("%d users signed up on %s: the day-apart attack needs 1 to %d", sameDay, day, k-1)
	}
	// oneCreator is a day before which every project has one creator.
	var oneCreator string
	if err := conn.QueryRow(ctx, `SELECT (max(created_at)::date)::text FROM projects p
		WHERE p.created_at < (SELECT min(created_at) FROM projects WHERE creator_id <> (SELECT creator_id FROM projects ORDER BY created_at LIMIT 1))`).Scan(&oneCreator); err != nil {
		t.Fatal(err)
	}
	var stars int64 // a star count that one project has alone
	if err := conn.QueryRow(ctx, `SELECT star_count FROM projects GROUP BY 1 HAVING count(*) = 1 ORDER BY 1 DESC LIMIT 1`).Scan(&stars); err != nil {
		t.Fatal(err)
	}
	var merger string
	if err := conn.QueryRow(ctx, `SELECT u.username FROM merge_request_metrics mm JOIN users u ON u.id = mm.merged_by_id
		GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&merger); err != nil {
		t.Fatal(err)
	}
	differs := func(total, part string) func([]string, [][]any) bool {
		return func(cols []string, rows [][]any) bool {
			ti, pi := indexOf(cols, total), indexOf(cols, part)
			for _, r := range rows {
				if r[ti] != nil && r[pi] != nil && fmt.Sprint(r[ti]) != fmt.Sprint(r[pi]) {
					return true
				}
			}
			return false
		}
	}
	// differsByFew: two counts of one row differ by fewer than k rows
	// (here, one row per person).
	differsByFew := func(total, part string) func([]string, [][]any) bool {
		return func(cols []string, rows [][]any) bool {
			ti, pi := indexOf(cols, total), indexOf(cols, part)
			for _, r := range rows {
				if r[ti] == nil || r[pi] == nil {
					continue
				}
				a, _ := strconv.ParseFloat(fmt.Sprint(r[ti]), 64)
				b, _ := strconv.ParseFloat(fmt.Sprint(r[pi]), 64)
				if d := math.Abs(a - b); d > 0 && d < k {
					return true
				}
			}
			return false
		}
	}
	var admins int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE admin`).Scan(&admins); err != nil || admins < 1 || admins >= k {
		t.Fatalf("the sample has %d admins (%v): the outer-join attack needs 1 to %d", admins, err, k-1)
	}
	for _, tc := range []struct {
		name, sql string
		leaks     func([]string, [][]any) bool
	}{
		{"series multiplies one person", `SELECT date_trunc('month', e.created_at)::date AS month, count(DISTINCT g) AS n
			FROM events e JOIN users u ON u.id = e.author_id AND u.username LIKE '%[2]s%%' CROSS JOIN generate_series(1, 12) g GROUP BY 1`, noRows},
		{"join repeats one person's row", `SELECT date_trunc('year', e.created_at)::date AS year, count(*) AS n
			FROM events e JOIN users u ON u.id = e.author_id AND u.username LIKE '%[2]s%%' JOIN generate_series(1, 50) g ON true GROUP BY 1`, noRows},
		{"distinct ids of one author's rows", `SELECT date_trunc('year', n.created_at)::date AS year, count(DISTINCT n.id) AS n
			FROM notes n JOIN users u ON u.id = n.author_id AND u.username LIKE '%[2]s%%' GROUP BY 1`, noRows},
		{"filter narrows a big group", `SELECT date_trunc('month', e.created_at)::date AS month, count(*) AS n,
			sum(e.action) FILTER (WHERE u.username LIKE '%[2]s%%') AS leak FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1`, nullColumn("leak")},
		{"case narrows a big group", `SELECT date_trunc('month', e.created_at)::date AS month, count(*) AS n,
			max(CASE WHEN e.action = 1 THEN e.action END) FILTER (WHERE u.username LIKE '%[2]s%%') AS leak FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1`, nullColumn("leak")},
		{"having tests one person", `SELECT date_trunc('month', e.created_at)::date AS month, count(*) AS n
			FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1 HAVING count(*) FILTER (WHERE u.username LIKE '%[2]s%%') > 0`, noRows},
		{"left join to one person's rows", `SELECT date_trunc('month', e.created_at)::date AS month, count(*) AS n, max(x.c) AS leak
			FROM events e LEFT JOIN (SELECT ev.author_id, ev.action AS c FROM events ev JOIN users u ON u.id = ev.author_id WHERE u.username LIKE '%[2]s%%') x ON x.author_id = e.author_id
			GROUP BY 1`, nullColumn("leak")},
		{"per-person subquery then one person", `SELECT s.c AS events, count(*) AS n
			FROM (SELECT e.author_id, count(*) AS c FROM events e GROUP BY e.author_id) s JOIN users u ON u.id = s.author_id WHERE u.username LIKE '%[2]s%%' GROUP BY 1`, noRows},
		{"union branch of one person", `SELECT date_trunc('year', x.t)::date AS year, count(*) AS n FROM (
			SELECT e.created_at AS t FROM events e JOIN users u ON u.id = e.author_id AND u.username LIKE '%[2]s%%'
			UNION ALL SELECT i.created_at FROM issues i JOIN users u ON u.id = i.author_id AND u.username LIKE '%[2]s%%') x GROUP BY 1`, noRows},
		{"everyone but one person, differenced", `SELECT date_trunc('month', e.created_at)::date AS month, count(*) AS n,
			count(*) FILTER (WHERE u.username <> '%[2]s') AS others FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1`, differs("n", "others")},
		{"a table without people joined by a constant", `SELECT count(*) AS n, max(mm.merged_at - mm.created_at) AS leak
			FROM issues i JOIN merge_request_metrics mm ON mm.merge_request_id = %[3]d`, nullColumn("leak")},
		{"a table without people cross joined", `SELECT count(*) AS n, max(mm.merged_at - mm.created_at) FILTER (WHERE mm.merge_request_id = %[3]d) AS leak
			FROM (SELECT dp.user_id FROM deployments dp ORDER BY dp.id LIMIT 40) d CROSS JOIN merge_request_metrics mm`, nullColumn("leak")},
		{"a row without a person left out by a FILTER", `SELECT count(*) AS n,
			count(*) FILTER (WHERE NOT (m.id = %[4]d AND m.invite_email LIKE '%[5]s%%')) AS others FROM members m`, differs("n", "others")},
		{"rows of one person through a people column", `SELECT date_trunc('year', mm.merged_at)::date AS year, count(*) AS n
			FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
			WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = mm.merged_by_id AND u.username LIKE '%[6]s%%') GROUP BY 1`, noRows},
		{"a union branch of one person beside a branch of many", `SELECT count(*) AS n, sum(x.v) AS leak FROM (
			SELECT u.sign_in_count AS v FROM users u WHERE u.username LIKE '%[2]s%%'
			UNION ALL SELECT 0 FROM events e) x`, nonZero("leak")},
		{"a CASE that pins one row by its time", `SELECT u.state AS s, count(*) AS n,
			sum(CASE WHEN u.created_at = '%[7]s' THEN u.sign_in_count ELSE 0 END) AS leak FROM users u GROUP BY 1`, nonZero("leak")},
		{"a number cast from a condition that pins one row", `SELECT u.state AS s, count(*) AS n,
			sum(CASE WHEN (u.created_at = '%[7]s')::int = 1 THEN u.sign_in_count END) AS leak FROM users u GROUP BY 1`, nonZero("leak")},
		{"a row of a table without people held by a literal on a measure (round 17)", `SELECT u.state AS s, count(DISTINCT u.id) AS n,
			max(p.updated_at - p.created_at) AS leak FROM users u JOIN projects p ON p.archived = u.admin
			WHERE p.star_count = %[8]d GROUP BY 1`, nullColumn("leak")},
		{"a row of a table without people picked by its id", `SELECT count(*) AS n, max(ns.updated_at - ns.created_at) AS leak
			FROM issues i JOIN namespaces ns ON ns.id = 1 /* not the victim's: %[1]d */`, nullColumn("leak")},
		{"an outer join whose ON picks one person, made non-NULL by coalesce", `SELECT u.state AS s, count(*) AS n,
			sum(coalesce(g.n, 0)) AS leak FROM users u
			LEFT JOIN generate_series(1, 3) AS g(n) ON u.username LIKE '%[2]s%%' AND g.n = 1 GROUP BY 1`, nonZero("leak")},
		{"rows of a table without people, one group each", `SELECT extract(epoch FROM p.created_at) AS t, count(*) AS n
			FROM issues i CROSS JOIN projects p GROUP BY 1 /* %[1]d */`, noRows},
		{"two subqueries differenced in one cell", `SELECT count(*) AS n, max(probe.c - base.c) AS leak
			FROM events e,
			(SELECT count(*) AS c FROM users u WHERE u.username <> '%[2]s') base,
			(SELECT count(*) AS c FROM users u WHERE u.username <> '%[2]s' OR u.email LIKE '%%') probe`, nonZero("leak")},
		{"coalesce makes many rows a constant beside one person's value", `SELECT count(*) AS n,
			max(coalesce(u.confirmed_at, '1970-01-01')) FILTER (WHERE u.confirmed_at IS NULL OR u.username LIKE '%[2]s%%') AS leak
			FROM users u`, func(cols []string, rows [][]any) bool {
			i := indexOf(cols, "leak")
			for _, r := range rows {
				if r[i] != nil && !strings.HasPrefix(fmt.Sprint(r[i]), "1970") {
					return true
				}
			}
			return false
		}},
		{"a NULL argument leaves out a few people (round 8)", `SELECT date_trunc('year', u.created_at)::date AS year, count(DISTINCT u.id) AS n,
			count(*) AS users, count(u.last_sign_in_at) AS signed_in FROM users u GROUP BY 1 /* %[1]d */`, differsByFew("users", "signed_in")},
		{"an outer join's NULLs leave out a few people (round 8)", `SELECT count(DISTINCT u.id) AS n, sum(u.sign_in_count) AS everyone,
			sum(u.sign_in_count + extract(epoch FROM x.t) * 0) AS non_admins
			FROM users u LEFT JOIN (SELECT max(l.created_at) AS t FROM labels l) x ON NOT u.admin /* %[1]d */`, differs("everyone", "non_admins")},
		{"a subquery grouped by a people column, one closer per row (round 20)", `SELECT s.n AS closes, count(DISTINCT s.closed_by_id) AS n
			FROM (SELECT i.closed_by_id, count(*) AS n FROM issues i WHERE i.closed_by_id IS NOT NULL GROUP BY i.closed_by_id) s
			GROUP BY 1 /* %[1]d */`, func(cols []string, rows [][]any) bool {
			// A row of one closer: closes counted for a single person.
			i := indexOf(cols, "n")
			for _, r := range rows {
				if fmt.Sprint(r[i]) == "1" {
					return true
				}
			}
			return false
		}},
		{"one namespace joined by a constant computed from a column (round 20)", `SELECT count(DISTINCT x.uid) AS n,
			avg(extract(epoch FROM ns.created_at)) AS leak
			FROM (SELECT u.id AS uid, u.projects_limit * 0 + %[1]d AS k FROM users u) x
			JOIN namespaces ns ON ns.id = x.k`, nullColumn("leak")},
		{"two cells a day apart (round 20)", `SELECT count(DISTINCT u.id) AS n,
			count(*) FILTER (WHERE u.created_at < '%[9]s') AS before,
			count(*) FILTER (WHERE u.created_at < '%[10]s') AS through
			FROM users u`, differsByFew("before", "through")},
		{"a total next to the visible cells of a suppressed one", `SELECT count(DISTINCT u.id) AS n, count(*) AS users,
			count(*) FILTER (WHERE u.state = 'active' AND NOT u.admin) AS active_members,
			count(*) FILTER (WHERE u.state <> 'active' AND NOT u.admin) AS other_members
			FROM users u /* %[1]d */`, func(cols []string, rows [][]any) bool {
			// users - active_members - other_members is the admins.
			u, a, o := indexOf(cols, "users"), indexOf(cols, "active_members"), indexOf(cols, "other_members")
			for _, r := range rows {
				if r[u] == nil || r[a] == nil || r[o] == nil {
					continue
				}
				x, _ := strconv.Atoi(fmt.Sprint(r[u]))
				y, _ := strconv.Atoi(fmt.Sprint(r[a]))
				z, _ := strconv.Atoi(fmt.Sprint(r[o]))
				if d := x - y - z; d > 0 && d < k {
					return true
				}
			}
			return false
		}},
		{"a window's partition by a day flag carries that day's count to everyone else's rows (round 27)", `SELECT s1.f AS f, count(DISTINCT s1.author_id) AS n,
			avg(s1.c_all - s1.c_f) AS other_side
			FROM (SELECT s0.author_id, s0.f, count(*) OVER () AS c_all, count(*) OVER (PARTITION BY s0.f) AS c_f
			      FROM (SELECT e.author_id, (u.created_at >= '%[9]s' AND u.created_at < '%[10]s') AS f
			            FROM events e JOIN users u ON u.id = e.author_id) s0) s1
			GROUP BY 1`, nullColumn("other_side")},
		{"rows without a person beside the rows with one (round 27)", `SELECT date_trunc('year', mb.created_at)::date AS y, count(DISTINCT u.id) AS n,
			sum(extract(epoch FROM mb.created_at)) AS all_t,
			sum(extract(epoch FROM mb.created_at) + extract(epoch FROM u.created_at) * 0) AS member_t
			FROM members mb LEFT JOIN users u ON u.id = mb.user_id GROUP BY 1 /* %[1]d */`, differs("all_t", "member_t")},
		{"one creator's projects read beside many issue authors (round 27)", `SELECT i.state_id AS st, count(DISTINCT i.author_id) AS n,
			count(DISTINCT p.id) AS projects, sum(p.star_count) AS stars
			FROM issues i JOIN projects p ON p.id = i.project_id
			WHERE p.created_at < '%[11]s' GROUP BY 1`, nullColumn("stars")},
		{"cte of one person joined to everyone", `WITH me AS (SELECT e.project_id FROM events e JOIN users u ON u.id = e.author_id AND u.username LIKE '%[2]s%%' GROUP BY 1)
			SELECT date_trunc('month', e.created_at)::date AS month, count(*) AS n FROM events e JOIN me ON me.project_id = e.project_id GROUP BY 1`, noRows},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf(tc.sql, victim, username, mr, invite, inviteEmail[:3], merger, created, stars, day, nextDay, oneCreator)
			an, vs := g.Check(src, "n")
			if len(vs) > 0 {
				t.Logf("refused: %v", vs[0])
				return
			}
			cols, rows := runDirect(t, conn, src)
			if !tc.leaks(cols, rows) {
				t.Fatalf("the query run as written does not leak (%d rows): the attack tests nothing", len(rows))
			}
			cols, rows = runFiltered(t, conn, an, k)
			if tc.leaks(cols, rows) {
				t.Errorf("the guard's rewrite and the entity filter let one person's data out: %v", rows)
			}
			t.Logf("the rewrite keeps %d rows, none with the person's data", len(rows))
		})
	}
}

// TestNamespaceAttacks runs attacks on queries with the header entity:
// namespace, which count namespaces: rows of k namespaces can still be one
// person's (round 19: one creator's projects across ten namespaces, held
// by their creation times).
func TestNamespaceAttacks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	conn := fakeGitLab(t)
	const k = 10
	// The creator whose projects span the most namespaces, and their
	// projects' creation times: a time literal list picks exactly those.
	var creator int64
	var spread int
	if err := conn.QueryRow(ctx, `SELECT creator_id, count(DISTINCT namespace_id) FROM projects
		WHERE creator_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`).Scan(&creator, &spread); err != nil {
		t.Fatal(err)
	}
	if spread < k {
		t.Fatalf("no creator's projects span %d namespaces (at most %d): the attack tests nothing", k, spread)
	}
	var times []string
	rows, err := conn.Query(ctx, `SELECT DISTINCT created_at::text FROM projects WHERE creator_id = $1 ORDER BY 1`, creator)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		times = append(times, "'"+s+"'")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	in := strings.Join(times, ", ")
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql string }{
		{"one creator's projects held by their creation times (round 19)", `SELECT count(DISTINCT p.namespace_id) AS n,
			count(*) AS projects, sum(p.star_count) AS stars
			FROM projects p WHERE p.created_at IN (%[1]s)`},
		{"the same through a subquery", `SELECT count(*) AS n, sum(x.stars) AS stars
			FROM (SELECT p.namespace_id, sum(p.star_count) AS stars FROM projects p WHERE p.created_at IN (%[1]s) GROUP BY 1) x`},
		{"one creator's cell in a row of everyone", `SELECT p.visibility_level AS v, count(DISTINCT p.namespace_id) AS n,
			sum(p.star_count) FILTER (WHERE p.created_at IN (%[1]s)) AS stars
			FROM projects p GROUP BY 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf(tc.sql, in)
			an, vs := g.CheckWith(src, guard.Options{GroupSize: "n", Namespaces: true})
			if len(vs) > 0 {
				t.Fatalf("refused, so it tests nothing of the count: %v", vs[0])
			}
			// As written, the creator's projects leave in a row or cell of
			// at least k namespaces.
			if _, direct := runDirect(t, conn, src); !hasValueOfCreator(direct) {
				t.Fatalf("the query run as written does not leak: %v", direct)
			}
			_, kept := runFiltered(t, conn, an, k)
			if hasValueOfCreator(kept) {
				t.Errorf("the rewrite let one creator's projects out in rows of %d namespaces: %v", k, kept)
			}
		})
	}
}

// hasValueOfCreator reports whether a row has a non-NULL last column (the
// creator's stars).
func hasValueOfCreator(rows [][]any) bool {
	for _, r := range rows {
		if r[len(r)-1] != nil {
			return true
		}
	}
	return false
}

// TestEntityOracles runs pairs of queries that differ only in a guess
// about one person's secret (the first letter of their e-mail): as
// written, the two answers differ, so the guess is readable; through the
// rewrite and the entity filter, the loaded answers must be the same.
func TestEntityOracles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	conn := fakeGitLab(t)
	var username, email string
	if err := conn.QueryRow(ctx, `SELECT u.username, u.email FROM events e JOIN users u ON u.id = e.author_id
		GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&username, &email); err != nil {
		t.Fatal(err)
	}
	right, wrong := email[:1], "#"
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql string }{
		{"a FILTER leaving out one person or nobody", `SELECT date_trunc('year', e.created_at)::date AS year, count(*) AS n,
			count(*) FILTER (WHERE NOT (u.username LIKE '%[1]s%%' AND u.email LIKE '%[2]s%%')) AS others
			FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1`},
		{"a HAVING that keeps the row when the guess is wrong", `SELECT date_trunc('year', e.created_at)::date AS year, count(*) AS n
			FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1
			HAVING count(*) FILTER (WHERE NOT (u.username LIKE '%[1]s%%' AND u.email LIKE '%[2]s%%')) = count(*)`},
		{"a cell of the one person or of nobody", `SELECT date_trunc('year', e.created_at)::date AS year, count(*) AS n,
			count(*) FILTER (WHERE u.username LIKE '%[1]s%%' AND u.email LIKE '%[2]s%%') AS them
			FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var direct, loaded [2]string
			for i, guess := range []string{right, wrong} {
				src := fmt.Sprintf(tc.sql, username, guess)
				an, vs := g.Check(src, "n")
				if len(vs) > 0 {
					t.Logf("refused: %v", vs[0])
					return
				}
				_, rows := runDirect(t, conn, src)
				direct[i] = fmt.Sprint(rows)
				_, rows = runFiltered(t, conn, an, 10)
				loaded[i] = fmt.Sprint(rows)
			}
			if direct[0] == direct[1] {
				t.Fatalf("as written, both guesses give %s: the attack tests nothing", direct[0])
			}
			if loaded[0] != loaded[1] {
				t.Errorf("the loaded answer tells the guess:\nright %s\nwrong %s", loaded[0], loaded[1])
			}
		})
	}
}

// fakeGitLab connects to a new database loaded with GitLab-shaped data at
// scale 1.
func fakeGitLab(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.WithoutCancel(t.Context())) })
	if _, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{Scale: 1}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// runDirect runs src as written.
func runDirect(t *testing.T, conn *pgx.Conn, src string) ([]string, [][]any) {
	t.Helper()
	rows, err := conn.Query(t.Context(), src)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// runFiltered runs the guard's rewrite and returns the visible columns of
// the rows the entity filter keeps.
func runFiltered(t *testing.T, conn *pgx.Conn, an *guard.Analysis, k int) ([]string, [][]any) {
	t.Helper()
	rows, err := conn.Query(t.Context(), an.SQL(k))
	if err != nil {
		t.Fatalf("run the rewrite: %v", err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions()[:len(an.Columns)] {
		cols = append(cols, f.Name)
	}
	filter := &guard.EntityFilter{Min: int64(k)}
	var kept [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		keep, err := filter.Keep(vals[len(an.Columns):])
		if err != nil {
			t.Fatal(err)
		}
		if keep {
			kept = append(kept, vals[:len(an.Columns)])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, kept
}

func indexOf(cols []string, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	panic("no column " + name)
}

// TestAtomsKeepTotals: when the cells of a row subtract to a few people
// (the admins, here, are users minus the two member cells), the cells
// split from the row are set to NULL and the row's totals stay: the
// group size and count(*).
func TestAtomsKeepTotals(t *testing.T) {
	t.Parallel()
	conn := fakeGitLab(t)
	g, err := guard.New(guard.Config{Schema: shippedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	an, vs := g.Check(`SELECT count(DISTINCT u.id) AS n, count(*) AS users,
		count(*) FILTER (WHERE u.state = 'active' AND NOT u.admin) AS active_members,
		count(*) FILTER (WHERE u.state <> 'active' AND NOT u.admin) AS other_members
		FROM users u`, "n")
	if len(vs) > 0 {
		t.Fatal(vs)
	}
	_, rows := runFiltered(t, conn, an, 10)
	if len(rows) != 1 {
		t.Fatalf("rows %v, want one", rows)
	}
	r := rows[0]
	if r[0] == nil || r[1] == nil || r[2] != nil || r[3] != nil {
		t.Errorf("row %v: want n and users shown, both member cells NULL", r)
	}
}
