package dump_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

// TestNothingCountsRowsOutOfTheScope dumps two sources that hold the same
// public rows and different non-public ones (world b has more issues of
// a private project, fewer of another, a confidential issue, an internal
// note and a banned user's issue more, and other changes to them between
// the dumps) the same way: a full dump, the same public changes in both,
// then an increment. Every file of both dumps is byte-identical (the
// manifests once their wall-clock start and finish times are set aside):
// no file carries a count, digest or size that depends on a row out of
// the scope. The key-bucket summaries of every key of a table, which
// dumps wrote before, differed here.
func TestNothingCountsRowsOutOfTheScope(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	def := repoDefinition(t)
	type world struct {
		dsn, dir string
		src      *pgx.Conn
		x        *dump.Exporter
	}
	worlds := make([]*world, 2)
	for i := range worlds {
		w := &world{dsn: source(t, 1), dir: filepath.Join(t.TempDir(), "bucket")}
		w.src = pgtest.Connect(t, w.dsn)
		worlds[i] = w
	}
	a, b := worlds[0], worlds[1]
	// A private project, a public one with public issues, an internal
	// note's public issue, and an active author.
	var private, otherPrivate, public, publicIssue, author int64
	if err := a.src.QueryRow(ctx, `SELECT min(p.id) FILTER (WHERE p.visibility_level = 0), max(p.id) FILTER (WHERE p.visibility_level = 0)
		FROM projects p WHERE EXISTS (SELECT FROM issues i WHERE i.project_id = p.id)`).Scan(&private, &otherPrivate); err != nil || private == otherPrivate {
		t.Fatalf("pick private projects: %d %d %v", private, otherPrivate, err)
	}
	if err := a.src.QueryRow(ctx, `SELECT i.project_id, i.id, i.author_id FROM issues i JOIN users u ON u.id = i.author_id
		JOIN routes r ON r.source_type = 'Project' AND r.source_id = i.project_id
		WHERE r.path = 'gitlab-org/gitlab' AND NOT i.confidential AND u.state = 'active' ORDER BY i.id LIMIT 1`).Scan(&public, &publicIssue, &author); err != nil {
		t.Fatal(err)
	}
	var bannedUser int64
	if err := a.src.QueryRow(ctx, `SELECT min(user_id) FROM banned_users`).Scan(&bannedUser); err != nil {
		t.Fatal(err)
	}
	// An issue row of a project at ids no public insert uses.
	issue := func(id int64, project int64, confidential bool, authorID int64, updated string) string {
		return "INSERT INTO issues (id, iid, project_id, namespace_id, title, description, author_id, state_id, confidential, work_item_type_id, created_at, updated_at) " +
			"SELECT " + itoa(id) + ", " + itoa(100000+id) + ", id, project_namespace_id, 'CANARY-out-of-scope', 'not public', " + itoa(authorID) + ", 1, " +
			map[bool]string{true: "true", false: "false"}[confidential] + ", 1, " + updated + ", " + updated + " FROM projects WHERE id = " + itoa(project)
	}
	const before, between = "'2026-10-31 20:00:00'", "'2026-11-01 03:00:00'"
	stmts := []string{
		"DELETE FROM issues WHERE project_id = " + itoa(otherPrivate),
		issue(900001, public, true, author, before),
		issue(900002, public, false, bannedUser, before),
		`INSERT INTO notes (id, note, noteable_type, noteable_id, project_id, namespace_id, author_id, system, internal, confidential, discussion_id, created_at, updated_at)
		 SELECT 900001, 'CANARY-internal', 'Issue', id, project_id, namespace_id, author_id, false, true, true, 'd', ` + before + `, ` + before + ` FROM issues WHERE id = ` + itoa(publicIssue),
	}
	for id := int64(900100); id < 900150; id++ {
		stmts = append(stmts, issue(id, private, false, author, before))
	}
	run(t, b.src, stmts...)
	asOf := func(at string) dump.Config {
		return dump.Config{Keep: 20, AsOf: "'" + at + "'::timestamptz"}
	}
	for _, w := range worlds {
		var logs syncBuffer
		w.x = exporter(t, w.dsn, fileBucket(t, w.dir), newStore(t), &logs, asOf("2026-11-01T00:00:00Z"))
		if m, err := w.x.Dump(ctx, def); err != nil || m.Kind != dump.KindFull {
			t.Fatalf("full dump: %v", err)
		}
	}
	// The same public changes in both worlds, other private ones in b.
	public1 := []string{
		"UPDATE issues SET title = 'changed in both worlds', updated_at = " + between + " WHERE id = " + itoa(publicIssue),
		`INSERT INTO notes (id, note, noteable_type, noteable_id, project_id, namespace_id, author_id, system, internal, discussion_id, created_at, updated_at)
		 SELECT 800001, 'a public note in both worlds', 'Issue', id, project_id, namespace_id, author_id, false, false, 'e', ` + between + `, ` + between + ` FROM issues WHERE id = ` + itoa(publicIssue),
	}
	run(t, a.src, public1...)
	run(t, b.src, public1...)
	stmts = []string{
		"DELETE FROM issues WHERE id BETWEEN 900100 AND 900120",
		"UPDATE issues SET title = 'CANARY-private-change', updated_at = " + between + " WHERE project_id = " + itoa(private),
		"UPDATE issues SET updated_at = " + between + " WHERE id IN (900001, 900002)",
		issue(900003, public, true, author, between),
		"UPDATE notes SET note = 'CANARY-internal-changed', updated_at = " + between + " WHERE id = 900001",
	}
	run(t, b.src, stmts...)
	for _, w := range worlds {
		if m, err := w.x.Dump(ctx, def); err != nil || m.Kind != dump.KindIncremental {
			t.Fatalf("increment: %v", err)
		}
	}

	files := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if filepath.Base(p) == dump.ManifestName+".attrs" {
				return nil // the MD5 of the manifest, with its times
			}
			if filepath.Base(p) == dump.ManifestName {
				var m dump.Manifest
				if err := json.Unmarshal(data, &m); err != nil {
					return err
				}
				m.StartedAt, m.FinishedAt = time.Time{}, time.Time{}
				if data, err = json.Marshal(m); err != nil {
					return err
				}
			}
			out[rel] = data
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	fa, fb := files(a.dir), files(b.dir)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range fa {
			if !yield(n) {
				return
			}
		}
	})
	if len(fa) != len(fb) {
		t.Errorf("world a wrote %d files, world b %d", len(fa), len(fb))
	}
	increments := 0
	for _, n := range names {
		if !bytes.Equal(fa[n], fb[n]) {
			t.Errorf("%s differs between the worlds: it depends on rows out of the scope", n)
		}
		if filepath.Base(n) == "issues.deletes.csv.gz" {
			increments++
		}
	}
	if increments != 1 || len(names) < 2*len(def.Tables) {
		t.Errorf("%d files, %d increments compared: want a full dump and an increment", len(names), increments)
	}
	t.Logf("%d files compared", len(names))
	// The comparison can fail: the public changes are in the increment.
	var inc dump.Manifest
	if err := json.Unmarshal(fa[filepath.Join("dumps", "2026-11-01", "2", dump.ManifestName)], &inc); err != nil || !inc.Incremental() {
		t.Fatalf("the increment's manifest: %v", err)
	}
	for _, mt := range inc.Tables {
		if (mt.Name == "issues" || mt.Name == "notes") && mt.Rows == 0 {
			t.Errorf("increment: %s has no upserts, want the public change", mt.Name)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
