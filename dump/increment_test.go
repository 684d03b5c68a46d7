package dump_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
)

// run runs statements on the source, failing the test on error.
func run(t *testing.T, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// utcNow is how GitLab writes timestamps (without time zone, in UTC).
const utcNow = "(now() AT TIME ZONE 'UTC')"

// scenario picks rows of gitlabfake's public scope to change.
type scenario struct {
	issue, confidential, note int64 // public issue to update, to make confidential; public note to delete
	project                   int64 // public project with public issues to make private and public again
}

func pickScenario(t *testing.T, conn *pgx.Conn) scenario {
	t.Helper()
	ctx := t.Context()
	var s scenario
	q := `SELECT i.id FROM issues i JOIN projects p ON p.id = i.project_id JOIN project_features f ON f.project_id = p.id
		JOIN routes r ON r.source_type = 'Project' AND r.source_id = p.id
		WHERE r.path = 'gitlab-org/gitlab' AND p.visibility_level = 20 AND NOT i.confidential AND f.issues_access_level = 20
		AND EXISTS (SELECT FROM notes n WHERE n.noteable_type = 'Issue' AND n.noteable_id = i.id AND NOT n.internal)
		ORDER BY i.id LIMIT 2`
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) < 2 {
		t.Fatalf("pick issues: %v %v", ids, err)
	}
	s.issue, s.confidential = ids[0], ids[1]
	if err := conn.QueryRow(ctx, `SELECT n.id FROM notes n WHERE n.noteable_type = 'Issue' AND n.noteable_id = $1 AND NOT n.internal ORDER BY id LIMIT 1`, s.issue).Scan(&s.note); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT p.id FROM projects p JOIN project_features f ON f.project_id = p.id JOIN namespaces n ON n.id = p.namespace_id
		WHERE p.visibility_level = 20 AND f.issues_access_level = 20 AND n.type = 'Group'
		AND EXISTS (SELECT FROM issues i WHERE i.project_id = p.id AND NOT i.confidential)
		AND EXISTS (SELECT FROM routes r WHERE r.source_type = 'Project' AND r.source_id = p.id AND r.path LIKE 'gitlab-org/%' AND r.path <> 'gitlab-org/gitlab')
		AND NOT EXISTS (SELECT FROM namespaces a WHERE a.id = ANY (n.traversal_ids) AND a.visibility_level <> 20)
		ORDER BY p.id LIMIT 1`).Scan(&s.project); err != nil {
		t.Fatal(err)
	}
	return s
}

// diffSchemas compares every table of two schemas of one warehouse with
// EXCEPT ALL both ways and returns what differs.
func diffSchemas(t *testing.T, query func(string) (int64, error), tables []string, a, b string) []string {
	t.Helper()
	var diffs []string
	for _, tb := range tables {
		for _, dir := range [][2]string{{a, b}, {b, a}} {
			q := fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM %s.%s EXCEPT ALL SELECT * FROM %s.%s) d`, dir[0], tb, dir[1], tb)
			n, err := query(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n != 0 {
				diffs = append(diffs, fmt.Sprintf("%s: %d rows in %s not in %s", tb, n, dir[0], dir[1]))
			}
		}
	}
	return diffs
}

// TestIncrementsEqualFullDump takes a full dump, applies creates,
// updates, deletes, an issue made confidential, a project made private
// and later public again between increments, loads each increment into a
// warehouse (PostgreSQL and DuckDB) and compares it with a fresh full
// dump of the same source loaded beside it: exactly equal, every table.
// The watermark-boundary race (a transaction that commits after an
// increment's snapshot with an older updated_at) is caught by the next
// increment.
func TestIncrementsEqualFullDump(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	src := pgtest.Connect(t, dsn)
	def := repoDefinition(t)
	store := newStore(t)
	bucketDir := filepath.Join(t.TempDir(), "bucket")
	var logs syncBuffer
	x := exporter(t, dsn, fileBucket(t, bucketDir), store, &logs, dump.Config{Keep: 20})

	whDSN := pgtest.New(t)
	pg, err := postgres.Open(ctx, whDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	duckPath := filepath.Join(t.TempDir(), "w.duckdb")
	duck := openDuck(t, duckPath)
	t.Cleanup(func() { _ = duck.Close() })
	whStore := newStore(t) // the warehouse side's history
	duckStore := newStore(t)
	loadPG := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), pg, whStore, nil)
	loadDuck := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), duck, duckStore, nil)
	step := func(wantKind warehouse.DumpMode) *dump.Manifest {
		t.Helper()
		m, err := x.Dump(ctx, def)
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != wantKind {
			t.Fatalf("dump %s is %s, want %s; log:\n%s", m.Location, m.Kind, wantKind, logs.String())
		}
		for _, l := range []*dump.Loader{loadPG, loadDuck} {
			res, err := l.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Loaded) != 1 || res.Loaded[0].Location != m.Location {
				t.Fatalf("loaded %v, want only %s", res.Loaded, m.Location)
			}
		}
		return m
	}
	full := step(dump.KindFull)
	sc := pickScenario(t, src)

	// Creates, updates, deletes, a confidential issue, a private project.
	run(t, src,
		`INSERT INTO issues (id, iid, project_id, namespace_id, title, description, author_id, state_id, confidential, work_item_type_id, created_at, updated_at)
		 SELECT (SELECT max(id) + 1 FROM issues), (SELECT max(iid) + 1 FROM issues WHERE project_id = i.project_id), project_id, namespace_id,
		   'created between increments', 'new', author_id, 1, false, work_item_type_id, `+utcNow+`, `+utcNow+` FROM issues i WHERE id = `+fmt.Sprint(sc.issue),
		fmt.Sprintf(`UPDATE issues SET title = 'updated between increments', updated_at = %s WHERE id = %d`, utcNow, sc.issue),
		fmt.Sprintf(`DELETE FROM notes WHERE id = %d`, sc.note),
		fmt.Sprintf(`UPDATE issues SET confidential = true, updated_at = %s WHERE id = %d`, utcNow, sc.confidential),
		fmt.Sprintf(`UPDATE projects SET visibility_level = 0 WHERE id = %d`, sc.project), // children keep their updated_at
	)
	inc1 := step(dump.KindIncremental)
	if inc1.Base != full.Location {
		t.Errorf("increment 1 applies on %s, want %s", inc1.Base, full.Location)
	}
	issues := table(t, inc1, "issues")
	if issues.Mode != dump.KindIncremental || issues.Rows == 0 || issues.Rows > table(t, full, "issues").Rows/10 || issues.Deletes == 0 {
		t.Errorf("increment 1 issues: mode %s, %d upserts, %d deletes; want a few of %d", issues.Mode, issues.Rows, issues.Deletes, table(t, full, "issues").Rows)
	}

	// The project public again (its issues enter the scope without an
	// updated_at change), and the race: a transaction that updates a row
	// with an older updated_at commits after the next increment's
	// snapshot.
	run(t, src, fmt.Sprintf(`UPDATE projects SET visibility_level = 20 WHERE id = %d`, sc.project))
	late := pgtest.Connect(t, dsn)
	tx, err := late.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE issues SET title = 'committed late', updated_at = %s - interval '10 minutes' WHERE id = %d`, utcNow, sc.issue)); err != nil {
		t.Fatal(err)
	}
	inc2 := step(dump.KindIncremental)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// With the same groups and projects in the scope, the next increment
	// finds what entered and left it among the rows that changed: another
	// issue made confidential (its notes, label links and events leave
	// without an updated_at change), one made public again, a note added.
	if inc2.ScopeSHA256 != full.ScopeSHA256 {
		t.Errorf("the scope's digest after the project is public again: %s, want the full dump's %s", inc2.ScopeSHA256, full.ScopeSHA256)
	}
	run(t, src,
		fmt.Sprintf(`UPDATE issues SET confidential = true, updated_at = %s WHERE id = (SELECT noteable_id FROM notes WHERE noteable_type = 'Issue' AND id > %d AND NOT internal
			AND noteable_id IN (SELECT id FROM issues WHERE NOT confidential AND project_id = (SELECT project_id FROM issues WHERE id = %d)) ORDER BY id LIMIT 1)`, utcNow, sc.note+1000, sc.issue),
		fmt.Sprintf(`UPDATE issues SET confidential = false, updated_at = %s WHERE id = %d`, utcNow, sc.confidential),
		`INSERT INTO notes (id, note, noteable_type, noteable_id, project_id, namespace_id, author_id, system, internal, discussion_id, created_at, updated_at)
		 SELECT (SELECT max(id) + 1 FROM notes), 'added', noteable_type, noteable_id, project_id, namespace_id, author_id, false, false, discussion_id, `+utcNow+`, `+utcNow+
			` FROM notes WHERE id = (SELECT min(id) FROM notes WHERE noteable_type = 'Issue' AND noteable_id = `+fmt.Sprint(sc.issue)+`)`)
	// A user banned: their issues and merge requests leave the scope
	// without a change of their own, and with them the notes, label
	// links, metrics and events hanging off them (GitLab hides them).
	var banned, bannedIssue int64
	if err := src.QueryRow(ctx, fmt.Sprintf(`SELECT i.author_id, i.id FROM issues i JOIN users u ON u.id = i.author_id
		JOIN routes r ON r.source_type = 'Project' AND r.source_id = i.project_id
		WHERE r.path = 'gitlab-org/gitlab' AND NOT i.confidential AND u.state = 'active'
		AND i.author_id NOT IN (SELECT author_id FROM issues WHERE id IN (%d, %d))
		AND EXISTS (SELECT FROM notes n WHERE n.noteable_type = 'Issue' AND n.noteable_id = i.id AND NOT n.internal)
		ORDER BY i.id LIMIT 1`, sc.issue, sc.confidential)).Scan(&banned, &bannedIssue); err != nil {
		t.Fatalf("pick an author to ban: %v", err)
	}
	run(t, src,
		fmt.Sprintf(`INSERT INTO banned_users (user_id, created_at, updated_at) VALUES (%d, now(), now())`, banned),
		fmt.Sprintf(`UPDATE users SET state = 'banned', updated_at = %s WHERE id = %d`, utcNow, banned))
	// A public note deleted and another inserted near it (at the id of
	// the note deleted before increment 1): the table's row count is
	// unchanged, only its keys tell the delete. (A note no event points
	// at: events of a deleted note stay until the next full dump.)
	var moved int64
	if err := src.QueryRow(ctx, fmt.Sprintf(`SELECT min(x.id) FROM notes x WHERE x.id >> 10 = %d >> 10 AND x.id <> %d AND x.noteable_type = 'Issue'
		AND NOT x.internal AND x.confidential IS NOT TRUE
		AND NOT EXISTS (SELECT FROM events e WHERE e.target_type = 'Note' AND e.target_id = x.id) AND x.noteable_id IN (SELECT id FROM issues WHERE NOT confidential AND project_id = (SELECT project_id FROM issues WHERE id = %d) AND author_id <> %d)`,
		sc.note, sc.note, sc.issue, banned)).Scan(&moved); err != nil {
		t.Fatalf("pick a public note in the bucket of note %d: %v", sc.note, err)
	}
	run(t, src,
		fmt.Sprintf(`INSERT INTO notes (id, note, noteable_type, noteable_id, project_id, namespace_id, author_id, system, internal, discussion_id, created_at, updated_at)
		 SELECT %d, 'in the bucket', noteable_type, noteable_id, project_id, namespace_id, author_id, false, false, discussion_id, %s, %s FROM notes WHERE id = %d`, sc.note, utcNow, utcNow, moved),
		fmt.Sprintf(`DELETE FROM notes WHERE id = %d`, moved))
	inc3 := step(dump.KindIncremental)
	if inc2.Base != inc1.Location || inc3.Base != inc2.Location {
		t.Errorf("chain: %s on %s, %s on %s", inc2.Location, inc2.Base, inc3.Location, inc3.Base)
	}
	if notes := table(t, inc3, "notes"); notes.Deletes == 0 || notes.Rows == 0 {
		t.Errorf("increment 3 notes: %d upserts, %d deletes; want the notes of the issues made confidential and public", notes.Rows, notes.Deletes)
	}
	if !inc3.Incremental() || inc3.ScopeSHA256 != full.ScopeSHA256 {
		t.Errorf("increment 3: kind %s, scope digest %s; want an increment on the same scope (the ban found among the changes)", inc3.Kind, inc3.ScopeSHA256)
	}

	// A fresh full dump of the same source, loaded beside.
	freshDir := filepath.Join(t.TempDir(), "fresh")
	fx := exporter(t, dsn, fileBucket(t, freshDir), nil, &logs, dump.Config{})
	if _, err := fx.Dump(ctx, def); err != nil {
		t.Fatal(err)
	}
	for _, wh := range []dump.Warehouse{pg, duck} {
		if _, err := dump.NewLoader(dump.LoadConfig{Schema: "fresh"}, fileBucket(t, freshDir), wh, nil, nil).Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, tb := range def.Tables {
		names = append(names, tb.Name)
	}
	whConn := pgtest.Connect(t, whDSN)
	pgQuery := func(q string) (n int64, err error) { err = whConn.QueryRow(ctx, q).Scan(&n); return n, err }
	if d := diffSchemas(t, pgQuery, names, "gitlab_public", "fresh"); len(d) > 0 {
		t.Errorf("PostgreSQL: the increments differ from a fresh full dump:\n%s", strings.Join(d, "\n"))
	}
	if err := duck.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", duckPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	duckQuery := func(q string) (n int64, err error) { err = db.QueryRowContext(ctx, q).Scan(&n); return n, err }
	if d := diffSchemas(t, duckQuery, names, "gitlab_public", "fresh"); len(d) > 0 {
		t.Errorf("DuckDB: the increments differ from a fresh full dump:\n%s", strings.Join(d, "\n"))
	}
	// The checks above must be able to fail: the scenario's rows are there
	// as the source has them.
	var title string
	if err := whConn.QueryRow(ctx, fmt.Sprintf(`SELECT title FROM gitlab_public.issues WHERE id = %d`, sc.issue)).Scan(&title); err != nil || title != "committed late" {
		t.Errorf("the late-committed update: title %q (%v), want committed late", title, err)
	}
	var n int64
	if err := whConn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM gitlab_public.issues WHERE id = %d OR project_id = %d`, sc.confidential, sc.project)).Scan(&n); err != nil || n == 0 {
		t.Errorf("issues of the project made public again: %d (%v)", n, err)
	}
	if err := whConn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM gitlab_public.issues WHERE id = %d`, sc.confidential)).Scan(&n); err != nil || n != 1 {
		t.Errorf("the issue made confidential and public again: %d in the warehouse (%v), want 1", n, err)
	}
	if err := whConn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM gitlab_public.notes WHERE id = %d`, moved)).Scan(&n); err != nil || n != 0 {
		t.Errorf("the deleted note %d is in the warehouse: %d (%v)", moved, n, err)
	}
	var note string
	if err := whConn.QueryRow(ctx, fmt.Sprintf(`SELECT note FROM gitlab_public.notes WHERE id = %d`, sc.note)).Scan(&note); err != nil || note != "in the bucket" {
		t.Errorf("note %d, deleted and inserted again: %q (%v), want the new one", sc.note, note, err)
	}
	for _, q := range []string{
		fmt.Sprintf(`SELECT count(*) FROM gitlab_public.issues WHERE id = %d`, bannedIssue),
		fmt.Sprintf(`SELECT count(*) FROM gitlab_public.issue_metrics WHERE issue_id = %d`, bannedIssue),
		fmt.Sprintf(`SELECT count(*) FROM gitlab_public.notes WHERE noteable_type = 'Issue' AND noteable_id = %d`, bannedIssue),
		fmt.Sprintf(`SELECT count(*) FROM gitlab_public.label_links WHERE target_type = 'Issue' AND target_id = %d`, bannedIssue),
		fmt.Sprintf(`SELECT count(*) FROM fresh.issues WHERE id = %d`, bannedIssue),
	} {
		if err := whConn.QueryRow(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Errorf("issue %d of the banned user %d: %s: %d (%v), want 0", bannedIssue, banned, q, n, err)
		}
	}
	// The watermarks are the last increment's.
	marks, err := store.DumpWatermarks(ctx, def.Group)
	if err != nil || len(marks) != 8 || marks[0].Location != inc3.Location {
		t.Errorf("watermarks %v (%v), want 8 of %s", marks, err, inc3.Location)
	}
}

func table(t *testing.T, m *dump.Manifest, name string) dump.ManifestTable {
	t.Helper()
	i := slices.IndexFunc(m.Tables, func(mt dump.ManifestTable) bool { return mt.Name == name })
	if i < 0 {
		t.Fatalf("%s has no table %s", m.Location, name)
	}
	return m.Tables[i]
}

// TestIncrementGapAndCorrupt: an increment whose base is not in storage
// is refused with a GapError and the warehouse keeps what it holds; a
// corrupt increment is refused the same way; a full dump then loads.
func TestIncrementGapAndCorrupt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	src := pgtest.Connect(t, dsn)
	def := repoDefinition(t)
	store := newStore(t)
	bucketDir := filepath.Join(t.TempDir(), "bucket")
	var logs syncBuffer
	x := exporter(t, dsn, fileBucket(t, bucketDir), store, &logs, dump.Config{Keep: 20})
	full, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	whDSN := pgtest.New(t)
	pg, err := postgres.Open(ctx, whDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	whConn := pgtest.Connect(t, whDSN)
	count := func() int64 {
		t.Helper()
		var n int64
		if err := whConn.QueryRow(ctx, "SELECT count(*) FROM gitlab_public.issues").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	loader := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), pg, newStore(t), nil)
	if _, err := loader.Load(ctx); err != nil {
		t.Fatal(err)
	}
	before := count()
	change := func() {
		run(t, src, `UPDATE issues SET title = 'changed', updated_at = `+utcNow+` WHERE id IN (SELECT id FROM issues ORDER BY id LIMIT 50)`,
			`DELETE FROM issue_metrics WHERE issue_id IN (SELECT id FROM issues ORDER BY id LIMIT 5)`,
			`DELETE FROM label_links WHERE target_type = 'Issue' AND target_id IN (SELECT id FROM issues ORDER BY id LIMIT 5)`,
			`DELETE FROM issues WHERE id IN (SELECT id FROM issues ORDER BY id LIMIT 5)`)
	}
	change()
	inc1, err := x.DumpKind(ctx, def, dump.KindIncremental)
	if err != nil {
		t.Fatal(err)
	}
	inc2, err := x.Dump(ctx, def)
	if err != nil || inc2.Base != inc1.Location {
		t.Fatalf("second increment: %v, %v", inc2, err)
	}
	// Corrupt: a flipped byte in the first increment's upserts.
	flip(t, filepath.Join(bucketDir, inc1.Location, "issues.csv.gz"))
	if _, err := loader.Load(ctx); err == nil || !strings.Contains(err.Error(), inc1.Location+"issues.csv.gz") {
		t.Fatalf("load of a corrupt increment: %v, want an error naming %sissues.csv.gz", err, inc1.Location)
	}
	if n := count(); n != before {
		t.Errorf("after the refused increment: %d issues, want the full dump's %d", n, before)
	}
	// Gap: the first increment's manifest gone.
	if err := fileBucket(t, bucketDir).Delete(ctx, inc1.Location+dump.ManifestName); err != nil {
		t.Fatal(err)
	}
	var gap *dump.GapError
	if _, err := loader.Load(ctx); !errors.As(err, &gap) || gap.Base != inc1.Location || gap.Held != full.Location {
		t.Fatalf("load across a gap: %v, want a GapError naming %s and %s", err, inc1.Location, full.Location)
	}
	if n := count(); n != before {
		t.Errorf("after the refused gap: %d issues, want %d", n, before)
	}
	// A full dump loads across the gap.
	if _, err := x.DumpKind(ctx, def, dump.KindFull); err != nil {
		t.Fatal(err)
	}
	res, err := loader.Load(ctx)
	if err != nil || len(res.Loaded) != 1 || res.Loaded[0].Incremental() {
		t.Fatalf("load of the full dump after the gap: %v, %v", res, err)
	}
	if n, want := count(), countPublic(t, dsn)["issues"]; n != want || n >= before {
		t.Errorf("after the full dump: %d issues, want %d (fewer than %d)", n, want, before)
	}
	dumps, err := store.Dumps(ctx, 0)
	if err != nil || dumps[0].Kind != history.DumpFull || dumps[1].Kind != history.DumpIncremental || dumps[1].Base != inc1.Location {
		t.Errorf("history of dumps: %+v %v", dumps, err)
	}
}
