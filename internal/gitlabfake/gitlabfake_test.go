package gitlabfake_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// load loads opts into a fresh database and returns a connection to it.
func load(t *testing.T, opts gitlabfake.Options) (*pgx.Conn, *gitlabfake.Stats) {
	t.Helper()
	conn := pgtest.Connect(t, pgtest.New(t))
	stats, err := gitlabfake.Load(t.Context(), conn, opts)
	if err != nil {
		t.Fatalf("load %+v: %v", opts, err)
	}
	return conn, stats
}

func queryInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// checksums returns md5(string_agg(row::text ORDER BY id)) of every table.
func checksums(t *testing.T, conn *pgx.Conn) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, name := range gitlabfake.Tables() {
		var sum string
		key := "id"
		if name == "banned_users" {
			key = "user_id"
		}
		q := fmt.Sprintf(`SELECT md5(string_agg(t::text, ',' ORDER BY %s)) FROM %s t`, key, name)
		if err := conn.QueryRow(t.Context(), q).Scan(&sum); err != nil {
			t.Fatalf("checksum %s: %v", name, err)
		}
		sums[name] = sum
	}
	return sums
}

// TestLoad loads the default data set once and checks it from parallel
// subtests.
func TestLoad(t *testing.T) {
	t.Parallel()
	start := time.Now()
	conn, stats := load(t, gitlabfake.Options{})
	t.Logf("scale 1: %d rows, %d canaries in %v", stats.Total(), stats.Canaries, time.Since(start))
	dsn := conn.Config().ConnString()

	t.Run("stats", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Connect(t, dsn)
		var tables []string
		rows, err := conn.Query(t.Context(), `SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(gitlabfake.Tables()))
		if !slices.Equal(tables, want) {
			t.Errorf("tables in the database %v, want %v", tables, want)
		}
		for _, name := range gitlabfake.Tables() {
			n := queryInt(t, conn, "SELECT count(*) FROM "+name)
			if n != stats.Rows[name] {
				t.Errorf("%s: %d rows, Stats says %d", name, n, stats.Rows[name])
			}
			if n == 0 {
				t.Errorf("%s is empty", name)
			}
		}
		for table, min := range map[string]int64{"issues": 3000, "merge_requests": 3000, "notes": 10000, "events": 10000, "ci_builds": 20000} {
			if stats.Rows[table] < min {
				t.Errorf("%s: %d rows at scale 1, want at least %d", table, stats.Rows[table], min)
			}
		}
		// The sequences continue after the loaded ids (nextval changes no
		// table data, so the determinism checksums are not disturbed).
		for _, name := range []string{"labels", "issues", "notes"} {
			next := queryInt(t, conn, fmt.Sprintf(`SELECT nextval(pg_get_serial_sequence('%s', 'id'))`, name))
			if next != stats.Rows[name]+1 {
				t.Errorf("next %s id = %d, want %d", name, next, stats.Rows[name]+1)
			}
		}
	})

	t.Run("schema follows GitLab", func(t *testing.T) {
		t.Parallel()
		testGitLabColumns(t, pgtest.Connect(t, dsn))
	})

	t.Run("determinism", func(t *testing.T) {
		t.Parallel()
		want := checksums(t, pgtest.Connect(t, dsn))
		same, _ := load(t, gitlabfake.Options{Scale: 1, Seed: 0, Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
		got := checksums(t, same)
		for _, name := range gitlabfake.Tables() {
			if got[name] != want[name] {
				t.Errorf("%s: checksum %s on the second load, %s on the first", name, got[name], want[name])
			}
		}
		other, _ := load(t, gitlabfake.Options{Seed: 7})
		diff := checksums(t, other)
		for _, name := range []string{"users", "issues", "merge_requests", "merge_request_metrics", "notes", "ci_builds"} {
			if diff[name] == want[name] {
				t.Errorf("%s: seed 7 gives the same data as seed 0", name)
			}
		}
	})

	t.Run("visibility", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Connect(t, dsn)
		for _, c := range []struct {
			what string
			sql  string
		}{
			{"public top-level group " + gitlabfake.RootGroup,
				`SELECT count(*) FROM namespaces n JOIN routes r ON r.source_type = 'Namespace' AND r.source_id = n.id
				 WHERE r.path = 'gitlab-org' AND n.type = 'Group' AND n.parent_id IS NULL AND n.visibility_level = 20`},
			{"private subgroup of gitlab-org holding a visibility-20 project",
				`SELECT count(*) FROM projects p JOIN namespaces s ON s.id = p.namespace_id JOIN namespaces o ON o.id = s.parent_id
				 JOIN routes r ON r.source_type = 'Namespace' AND r.source_id = o.id
				 WHERE r.path = 'gitlab-org' AND s.visibility_level = 0 AND p.visibility_level = 20`},
			{"internal subgroup of gitlab-org",
				`SELECT count(*) FROM namespaces s JOIN routes r ON r.source_type = 'Namespace' AND r.source_id = s.parent_id
				 WHERE r.path = 'gitlab-org' AND s.visibility_level = 10 AND s.type = 'Group'`},
			{"private and internal projects in gitlab-org",
				`SELECT count(DISTINCT p.visibility_level) FROM projects p JOIN namespaces n ON n.id = p.namespace_id
				 WHERE n.traversal_ids[1] = (SELECT source_id FROM routes WHERE path = 'gitlab-org') AND p.visibility_level IN (0, 10)`},
			{"public project with private issues", `SELECT count(*) FROM projects p JOIN project_features f ON f.project_id = p.id WHERE p.visibility_level = 20 AND f.issues_access_level = 10`},
			{"public project with disabled issues", `SELECT count(*) FROM projects p JOIN project_features f ON f.project_id = p.id WHERE p.visibility_level = 20 AND f.issues_access_level = 0`},
			{"public project with private merge requests", `SELECT count(*) FROM projects p JOIN project_features f ON f.project_id = p.id WHERE p.visibility_level = 20 AND f.merge_requests_access_level = 10`},
			{"public project with private repository", `SELECT count(*) FROM projects p JOIN project_features f ON f.project_id = p.id WHERE p.visibility_level = 20 AND f.repository_access_level = 10`},
			{"archived project", `SELECT count(*) FROM projects WHERE archived`},
			{"pending_delete project", `SELECT count(*) FROM projects WHERE pending_delete`},
			{"public top-level gitlab-com", `SELECT count(*) FROM namespaces n JOIN routes r ON r.source_id = n.id AND r.source_type = 'Namespace' WHERE r.path = 'gitlab-com' AND n.visibility_level = 20`},
			{"private top-level acme-corp", `SELECT count(*) FROM namespaces n JOIN routes r ON r.source_id = n.id AND r.source_type = 'Namespace' WHERE r.path = 'acme-corp' AND n.visibility_level = 0`},
			{"personal projects", `SELECT count(*) FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE n.type = 'User'`},
			{"project namespaces", `SELECT count(*) FROM projects p JOIN namespaces n ON n.id = p.project_namespace_id WHERE n.type = 'Project'`},
			{"confidential issue in a public project", `SELECT count(*) FROM issues i JOIN projects p ON p.id = i.project_id WHERE i.confidential AND p.visibility_level = 20`},
			{"internal note", `SELECT count(*) FROM notes WHERE internal AND confidential`},
			{"system note", `SELECT count(*) FROM notes WHERE system`},
			{"user types", `SELECT count(DISTINCT user_type) - 3 FROM users`},
			{"user states", `SELECT count(DISTINCT state) - 3 FROM users`},
			{"sign-in IPs", `SELECT count(*) FROM users WHERE current_sign_in_ip IS NOT NULL AND last_sign_in_ip IS NOT NULL`},
			{"group labels on issues and merge requests",
				`SELECT count(DISTINCT ll.target_type) - 1 FROM label_links ll JOIN labels l ON l.id = ll.label_id WHERE l.title = 'type::bug' AND l.type = 'GroupLabel'`},
			{"project labels", `SELECT count(*) FROM labels WHERE type = 'ProjectLabel'`},
			{"milestones on issues", `SELECT count(*) FROM issues WHERE milestone_id IS NOT NULL`},
			{"merge request states opened, closed, merged", `SELECT count(DISTINCT state_id) - 2 FROM merge_requests`},
			{"issues closed by merge requests", `SELECT count(*) FROM merge_requests_closing_issues`},
			{"pipeline statuses success, failed, canceled", `SELECT count(DISTINCT status) - 2 FROM ci_pipelines WHERE status IN ('success', 'failed', 'canceled')`},
			{"failed and successful production deployments",
				`SELECT count(DISTINCT d.status) - 1 FROM deployments d JOIN environments e ON e.id = d.environment_id WHERE e.tier = 0`},
			{"event actions", `SELECT count(DISTINCT action) - 6 FROM events`},
			{"pending invitations", `SELECT count(*) FROM members WHERE user_id IS NULL AND invite_email IS NOT NULL`},
		} {
			if n := queryInt(t, conn, c.sql); n <= 0 {
				t.Errorf("want %s; query gave %d:\n%s", c.what, n, c.sql)
			}
		}
		for _, c := range []struct {
			what string
			sql  string
		}{
			{"namespaces whose traversal_ids is not their parent's plus their id",
				`SELECT count(*) FROM namespaces n LEFT JOIN namespaces p ON p.id = n.parent_id
				 WHERE n.traversal_ids <> coalesce(p.traversal_ids, '{}') || n.id`},
			{"projects whose route is not their namespace's route plus their path",
				`SELECT count(*) FROM projects p JOIN routes pr ON pr.source_type = 'Project' AND pr.source_id = p.id
				 JOIN routes nr ON nr.source_type = 'Namespace' AND nr.source_id = p.namespace_id
				 WHERE pr.path <> nr.path || '/' || p.path`},
			{"subgroups more visible than their parent", `SELECT count(*) FROM namespaces n JOIN namespaces p ON p.id = n.parent_id WHERE n.type = 'Group' AND n.visibility_level > p.visibility_level`},
			{"projects without features", `SELECT count(*) FROM projects p LEFT JOIN project_features f ON f.project_id = p.id WHERE f.id IS NULL`},
		} {
			if n := queryInt(t, conn, c.sql); n != 0 {
				t.Errorf("found %d %s:\n%s", n, c.what, c.sql)
			}
		}
	})

	t.Run("timelines", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Connect(t, dsn)
		for _, c := range []struct {
			what string
			sql  string
		}{
			{"merge requests merged before they were created", `SELECT count(*) FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id WHERE mm.merged_at < m.created_at`},
			{"first comments outside created..merged/closed",
				`SELECT count(*) FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
				 WHERE mm.first_comment_at < m.created_at OR mm.first_comment_at > coalesce(mm.merged_at, mm.latest_closed_at, '2026-11-01')`},
			{"approvals after the merge", `SELECT count(*) FROM merge_request_metrics WHERE first_approved_at > merged_at OR first_approved_at < first_comment_at`},
			{"merges before the head pipeline finished", `SELECT count(*) FROM merge_request_metrics WHERE latest_build_finished_at > merged_at`},
			{"pipelines finishing before they start", `SELECT count(*) FROM merge_request_metrics WHERE latest_build_finished_at < latest_build_started_at`},
			{"first commits after the merge request was opened", `SELECT count(*) FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id WHERE mm.first_commit_at > m.created_at`},
			{"last commits before first commits", `SELECT count(*) FROM merge_request_metrics WHERE last_commit_at < first_commit_at`},
			{"production deployments before the merge", `SELECT count(*) FROM merge_request_metrics WHERE first_deployed_to_production_at < merged_at`},
			{"merged state without merged_at or the reverse", `SELECT count(*) FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id WHERE (m.state_id = 3) <> (mm.merged_at IS NOT NULL)`},
			{"closed state without latest_closed_at or the reverse", `SELECT count(*) FROM merge_requests m JOIN merge_request_metrics mm ON mm.merge_request_id = m.id WHERE (m.state_id = 2) <> (mm.latest_closed_at IS NOT NULL)`},
			{"issues closed before they were opened", `SELECT count(*) FROM issues WHERE closed_at < created_at`},
			{"closed state without closed_at or the reverse", `SELECT count(*) FROM issues WHERE (state_id = 2) <> (closed_at IS NOT NULL)`},
			{"issues still open after a merged merge request closing them",
				`SELECT count(*) FROM merge_requests_closing_issues c JOIN issue_metrics im ON im.issue_id = c.issue_id JOIN issues i ON i.id = c.issue_id
				 JOIN merge_request_metrics mm ON mm.merge_request_id = c.merge_request_id WHERE mm.merged_at IS NOT NULL AND (i.closed_at IS NULL OR i.closed_at > mm.merged_at)`},
			{"issues closed by a merge request opened before the issue",
				`SELECT count(*) FROM merge_requests_closing_issues c JOIN issues i ON i.id = c.issue_id JOIN merge_requests m ON m.id = c.merge_request_id WHERE m.created_at < i.created_at`},
			{"pipelines with bad times or durations",
				`SELECT count(*) FROM ci_pipelines WHERE started_at < created_at OR finished_at < started_at OR duration <= 0`},
			{"builds with bad times", `SELECT count(*) FROM ci_builds WHERE started_at < queued_at OR finished_at < started_at OR (status IN ('success', 'failed') AND finished_at IS NULL)`},
			{"deployments finishing before they start", `SELECT count(*) FROM deployments WHERE finished_at < created_at`},
			{"activity after Now", `SELECT (SELECT count(*) FROM issues WHERE greatest(created_at, updated_at, closed_at) > '2026-11-01')
				+ (SELECT count(*) FROM merge_request_metrics WHERE greatest(merged_at, latest_closed_at, first_comment_at, first_deployed_to_production_at, updated_at) > '2026-11-01')
				+ (SELECT count(*) FROM notes WHERE created_at > '2026-11-01') + (SELECT count(*) FROM events WHERE created_at > '2026-11-01')`},
			{"activity before the two-year window", `SELECT count(*) FROM issues WHERE created_at < '2024-11-01'`},
			{"authors who did not exist yet", `SELECT count(*) FROM issues i JOIN users u ON u.id = i.author_id WHERE u.created_at > i.created_at`},
		} {
			if n := queryInt(t, conn, c.sql); n != 0 {
				t.Errorf("found %d %s:\n%s", n, c.what, c.sql)
			}
		}
		// Weekly seasonality: a weekday sees far more new issues than a
		// weekend day.
		weekday := queryInt(t, conn, `SELECT count(*) / 5 FROM issues WHERE extract(isodow FROM created_at) < 6`)
		weekend := queryInt(t, conn, `SELECT count(*) / 2 FROM issues WHERE extract(isodow FROM created_at) >= 6`)
		if weekday < 2*weekend {
			t.Errorf("%d issues per weekday, %d per weekend day; want weekdays at least twice as busy", weekday, weekend)
		}
		if n := queryInt(t, conn, `SELECT count(*) FROM merge_request_metrics WHERE merged_at IS NOT NULL AND first_comment_at IS NOT NULL AND first_approved_at IS NOT NULL`); n < 1000 {
			t.Errorf("%d merge requests with the full created → commented → approved → merged timeline, want ≥ 1000", n)
		}
	})

	t.Run("aggregates", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Connect(t, dsn)
		for _, q := range []string{
			`SELECT count(*) FILTER (WHERE n >= 10), count(*) FILTER (WHERE n < 10) FROM (
				SELECT date_trunc('month', created_at), project_id, count(*) AS n FROM issues GROUP BY 1, 2) g`,
			`SELECT count(*) FILTER (WHERE n >= 10), count(*) FILTER (WHERE n < 10) FROM (
				SELECT date_trunc('month', m.created_at), l.title, count(*) AS n FROM merge_requests m
				JOIN label_links ll ON ll.target_type = 'MergeRequest' AND ll.target_id = m.id JOIN labels l ON l.id = ll.label_id GROUP BY 1, 2) g`,
			`SELECT count(*) FILTER (WHERE n >= 10), count(*) FILTER (WHERE n < 10) FROM (
				SELECT date_trunc('month', merged_at), target_project_id, count(*) AS n FROM merge_request_metrics WHERE merged_at IS NOT NULL GROUP BY 1, 2) g`,
		} {
			var big, small int64
			if err := conn.QueryRow(t.Context(), q).Scan(&big, &small); err != nil {
				t.Fatal(err)
			}
			if big < 20 || small < 20 {
				t.Errorf("%d groups of at least 10 and %d smaller groups, want at least 20 of each:\n%s", big, small, q)
			}
		}
	})

	t.Run("scale", func(t *testing.T) {
		t.Parallel()
		_, two := load(t, gitlabfake.Options{Scale: 2})
		for _, name := range []string{"users", "issues", "merge_requests", "notes", "events", "label_links", "ci_pipelines", "ci_builds", "deployments"} {
			ratio := float64(two.Rows[name]) / float64(stats.Rows[name])
			if ratio < 1.6 || ratio > 2.4 {
				t.Errorf("%s: %d rows at scale 2, %d at scale 1 (×%.2f), want about ×2", name, two.Rows[name], stats.Rows[name], ratio)
			}
		}
	})

	t.Run("canaries", func(t *testing.T) {
		t.Parallel()
		testCanaries(t, pgtest.Connect(t, dsn), stats)
	})

	t.Run("load twice", func(t *testing.T) {
		t.Parallel()
		conn := pgtest.Connect(t, dsn)
		if _, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{}); err == nil {
			t.Fatal("second Load into the same database succeeded, want an error")
		}
		if n := queryInt(t, conn, `SELECT count(*) FROM issues`); n != stats.Rows["issues"] {
			t.Errorf("failed second Load left %d issues, want the %d of the first", n, stats.Rows["issues"])
		}
	})
}

// publicSQL defines, independently of the generator, what an anonymous
// visitor may see: projects with public visibility, not pending deletion,
// every ancestor namespace public; their issues if the issues feature is
// public and the issue not confidential; their merge requests if merge
// requests and repository are public; notes on those, unless internal.
const publicSQL = `
CREATE TEMP VIEW public_projects AS
SELECT p.id FROM projects p JOIN namespaces n ON n.id = p.namespace_id
WHERE p.visibility_level = 20 AND NOT p.pending_delete
  AND NOT EXISTS (SELECT FROM namespaces a WHERE a.id = ANY (n.traversal_ids) AND a.visibility_level < 20);
CREATE TEMP VIEW public_issues AS
SELECT i.id FROM issues i JOIN public_projects pp ON pp.id = i.project_id JOIN project_features f ON f.project_id = i.project_id
WHERE f.issues_access_level >= 20 AND NOT i.confidential
  AND NOT EXISTS (SELECT FROM banned_users b WHERE b.user_id = i.author_id);
CREATE TEMP VIEW public_merge_requests AS
SELECT m.id FROM merge_requests m JOIN public_projects pp ON pp.id = m.target_project_id JOIN project_features f ON f.project_id = m.target_project_id
WHERE f.merge_requests_access_level >= 20 AND f.repository_access_level >= 20
  AND NOT EXISTS (SELECT FROM banned_users b WHERE b.user_id = m.author_id);
CREATE TEMP VIEW public_notes AS
SELECT n.id FROM notes n
WHERE NOT n.internal AND ((n.noteable_type = 'Issue' AND n.noteable_id IN (SELECT id FROM public_issues))
   OR (n.noteable_type = 'MergeRequest' AND n.noteable_id IN (SELECT id FROM public_merge_requests)));
`

func testCanaries(t *testing.T, conn *pgx.Conn, stats *gitlabfake.Stats) {
	ctx := t.Context()
	canaries, err := gitlabfake.Canaries(gitlabfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(canaries) != stats.Canaries {
		t.Errorf("Canaries lists %d markers, Load planted %d", len(canaries), stats.Canaries)
	}
	seen := map[string]bool{}
	perColumn := map[[2]string]int64{}
	for _, c := range canaries {
		if seen[c.Marker] {
			t.Fatalf("marker %s listed twice", c.Marker)
		}
		seen[c.Marker] = true
		if !strings.HasPrefix(c.Marker, gitlabfake.CanaryPrefix) || c.Reason == "" {
			t.Fatalf("bad canary %+v", c)
		}
		perColumn[[2]string{c.Table, c.Column}]++
	}
	for _, want := range [][2]string{
		{"issues", "title"}, {"issues", "description"}, {"merge_requests", "title"}, {"notes", "note"},
		{"projects", "name"}, {"projects", "description"}, {"namespaces", "name"}, {"users", "email"},
		{"users", "encrypted_password"}, {"users", "feed_token"}, {"users", "incoming_email_token"},
		{"users", "encrypted_otp_secret"}, {"ci_builds", "token_encrypted"}, {"members", "invite_token"},
	} {
		if perColumn[want] == 0 {
			t.Errorf("no canary in %s.%s", want[0], want[1])
		}
	}

	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE canaries (marker text, tbl text, col text, id bigint, reason text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"canaries"}, []string{"marker", "tbl", "col", "id", "reason"},
		pgx.CopyFromSlice(len(canaries), func(i int) ([]any, error) {
			c := canaries[i]
			return []any{c.Marker, c.Table, c.Column, c.ID, c.Reason}, nil
		})); err != nil {
		t.Fatal(err)
	}
	// Every canary sits in its row, and its column holds no other marker
	// than the listed ones.
	for tc, n := range perColumn {
		table, column := pgx.Identifier{tc[0]}.Sanitize(), pgx.Identifier{tc[1]}.Sanitize()
		missing := queryInt(t, conn, fmt.Sprintf(`SELECT count(*) FROM canaries c LEFT JOIN %s t ON t.id = c.id AND strpos(t.%s, c.marker) > 0
			WHERE c.tbl = $1 AND c.col = $2 AND t.id IS NULL`, table, column), tc[0], tc[1])
		if missing != 0 {
			t.Errorf("%s.%s: %d listed canaries not found in their row", tc[0], tc[1], missing)
		}
		where := ""
		if tc[0] == "namespaces" {
			where = "type = 'Group' AND " // project namespaces copy their project's
		}
		rows := queryInt(t, conn, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %sstrpos(%s, $1) > 0`, table, where, column), gitlabfake.CanaryPrefix)
		if rows != n {
			t.Errorf("%s.%s: %d rows hold a canary, %d are listed", tc[0], tc[1], rows, n)
		}
	}
	// Columns without listed canaries hold none, except GitLab's copies of
	// names and descriptions.
	copies := map[[2]string]bool{{"routes", "name"}: true, {"namespaces", "name"}: true, {"namespaces", "description"}: true}
	rows, err := conn.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')`)
	if err != nil {
		t.Fatal(err)
	}
	columns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var tc [2]string
		err := r.Scan(&tc[0], &tc[1])
		return tc, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range columns {
		if perColumn[tc] > 0 || copies[tc] {
			continue
		}
		n := queryInt(t, conn, fmt.Sprintf(`SELECT count(*) FROM %s WHERE strpos(%s, $1) > 0`,
			pgx.Identifier{tc[0]}.Sanitize(), pgx.Identifier{tc[1]}.Sanitize()), gitlabfake.CanaryPrefix)
		if n != 0 {
			t.Errorf("%s.%s: %d rows hold an unlisted canary", tc[0], tc[1], n)
		}
	}

	// Public rows hold no canary; every non-public one does.
	if _, err := conn.Exec(ctx, publicSQL); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		sql  string
		want func(int64) bool
	}{
		{"public issues with a canary in title or description",
			`SELECT count(*) FROM issues WHERE id IN (SELECT id FROM public_issues) AND (strpos(title, 'CANARY-') > 0 OR strpos(description, 'CANARY-') > 0)`, zero},
		{"non-public issues without a canary in the title",
			`SELECT count(*) FROM issues WHERE id NOT IN (SELECT id FROM public_issues) AND strpos(title, 'CANARY-') = 0`, zero},
		{"public merge requests with a canary", `SELECT count(*) FROM merge_requests WHERE id IN (SELECT id FROM public_merge_requests) AND (strpos(title, 'CANARY-') > 0 OR strpos(description, 'CANARY-') > 0)`, zero},
		{"non-public merge requests without a canary in the title", `SELECT count(*) FROM merge_requests WHERE id NOT IN (SELECT id FROM public_merge_requests) AND strpos(title, 'CANARY-') = 0`, zero},
		{"public notes with a canary", `SELECT count(*) FROM notes WHERE id IN (SELECT id FROM public_notes) AND strpos(note, 'CANARY-') > 0`, zero},
		{"non-public notes without a canary", `SELECT count(*) FROM notes WHERE id NOT IN (SELECT id FROM public_notes) AND strpos(note, 'CANARY-') = 0`, zero},
		{"public projects with a canary in name or description", `SELECT count(*) FROM projects WHERE id IN (SELECT id FROM public_projects) AND (strpos(name, 'CANARY-') > 0 OR strpos(description, 'CANARY-') > 0)`, zero},
		{"non-public projects without a canary in the name", `SELECT count(*) FROM projects WHERE id NOT IN (SELECT id FROM public_projects) AND strpos(name, 'CANARY-') = 0`, zero},
		{"public issues in gitlab-org", `SELECT count(*) FROM public_issues i JOIN issues USING (id) JOIN projects p ON p.id = issues.project_id JOIN routes r ON r.source_type = 'Project' AND r.source_id = p.id WHERE r.path LIKE 'gitlab-org/%'`,
			func(n int64) bool { return n >= 1000 }},
		{"notes on confidential issues with a canary", `SELECT count(*) FROM notes n JOIN issues i ON n.noteable_type = 'Issue' AND i.id = n.noteable_id WHERE i.confidential AND strpos(n.note, 'CANARY-') > 0`, positive},
		{"banned users without a ban record, or the reverse", `SELECT count(*) FROM users u FULL JOIN banned_users b ON b.user_id = u.id
			WHERE (u.state = 'banned') IS DISTINCT FROM (b.user_id IS NOT NULL)`, zero},
		{"banned authors of public-looking issues and merge requests in gitlab-org", `SELECT count(DISTINCT b.user_id) FROM banned_users b
			WHERE EXISTS (SELECT FROM issues i JOIN projects p ON p.id = i.project_id JOIN routes r ON r.source_type = 'Project' AND r.source_id = p.id
			              JOIN project_features f ON f.project_id = p.id
			              WHERE i.author_id = b.user_id AND r.path LIKE 'gitlab-org/%' AND p.id IN (SELECT id FROM public_projects) AND f.issues_access_level >= 20 AND NOT i.confidential)
			  AND EXISTS (SELECT FROM merge_requests m JOIN projects p ON p.id = m.target_project_id JOIN routes r ON r.source_type = 'Project' AND r.source_id = p.id
			              JOIN project_features f ON f.project_id = p.id
			              WHERE m.author_id = b.user_id AND r.path LIKE 'gitlab-org/%' AND p.id IN (SELECT id FROM public_projects) AND f.merge_requests_access_level >= 20 AND f.repository_access_level >= 20)`,
			func(n int64) bool { return n >= 3 }},
		{"issues of banned users with a canary in the title", `SELECT count(*) FROM issues i JOIN banned_users b ON b.user_id = i.author_id WHERE strpos(i.title, 'CANARY-') > 0`, positive},
		{"users without a canary email", `SELECT count(*) FROM users WHERE strpos(email, 'CANARY-') = 0 OR strpos(encrypted_password, 'CANARY-') = 0`, zero},
	} {
		if n := queryInt(t, conn, c.sql); !c.want(n) {
			t.Errorf("%s: %d\n%s", c.what, n, c.sql)
		}
	}
}

func zero(n int64) bool     { return n == 0 }
func positive(n int64) bool { return n > 0 }

func TestSchema(t *testing.T) {
	t.Parallel()
	conn := pgtest.Connect(t, pgtest.New(t))
	if _, err := conn.Exec(t.Context(), gitlabfake.Schema()); err != nil {
		t.Fatalf("apply Schema(): %v", err)
	}
	n := queryInt(t, conn, `SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = 'public' AND constraint_type = 'FOREIGN KEY'`)
	if n < 20 {
		t.Errorf("%d foreign keys, want the ones joins use (≥ 20)", n)
	}
	if _, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{Scale: -1}); err == nil {
		t.Error("Load with a negative scale succeeded")
	}
}

func TestCanariesDeterministic(t *testing.T) {
	t.Parallel()
	a, err := gitlabfake.Canaries(gitlabfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := gitlabfake.Canaries(gitlabfake.Options{Scale: 1, Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Error("Canaries differs between two calls with the same options")
	}
}

// BenchmarkLoad measures Load into a fresh database of the shared cluster:
//
//	go test -run '^$' -bench 'Load/scale=50$' -benchtime 1x ./internal/gitlabfake/
func BenchmarkLoad(b *testing.B) {
	for _, scale := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("scale=%d", scale), func(b *testing.B) {
			var rows int64
			for b.Loop() {
				b.StopTimer()
				conn, err := pgx.Connect(b.Context(), pgtest.New(b))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				stats, err := gitlabfake.Load(b.Context(), conn, gitlabfake.Options{Scale: scale})
				if err != nil {
					b.Fatal(err)
				}
				rows = stats.Total()
				conn.Close(context.Background())
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// testGitLabColumns compares every column of the loaded tables, its type and
// its NOT NULL, with testdata/gitlab_columns.txt, the same columns as
// GitLab's db/structure.sql declares them.
func testGitLabColumns(t *testing.T, conn *pgx.Conn) {
	data, err := os.ReadFile("testdata/gitlab_columns.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // table.column → type [NOT NULL]
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		col, typ, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("testdata/gitlab_columns.txt: bad line %q", line)
		}
		want[col] = typ
	}
	rows, err := conn.Query(t.Context(), `
		SELECT c.relname || '.' || a.attname,
		       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relname = ANY ($1) AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
		  AND a.attnum > 0 AND NOT a.attisdropped`, gitlabfake.Tables())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			t.Fatal(err)
		}
		got[col] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, col := range slices.Sorted(maps.Keys(got)) {
		switch w, ok := want[col]; {
		case !ok:
			t.Errorf("%s %s is not in GitLab's structure.sql (testdata/gitlab_columns.txt)", col, got[col])
		case w != got[col]:
			t.Errorf("%s is %s, GitLab has %s", col, got[col], w)
		}
	}
	for _, col := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[col]; !ok {
			t.Errorf("%s (%s) is in testdata/gitlab_columns.txt but not in the schema", col, want[col])
		}
	}
}
