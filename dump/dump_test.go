package dump_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
)

func TestMain(m *testing.M) {
	if os.Getenv("DUMP_TEST_HELPER") != "" {
		os.Exit(helperDump())
	}
	if os.Getenv("DUMP_BENCH_READ") != "" {
		os.Exit(helperRead())
	}
	pgtest.Main(m)
}

// testKey is the pseudonym key of the tests.
var testKey = []byte("test pseudonym key, not a secret")

// repoDefinition parses the repository's dump.yml.
func repoDefinition(t testing.TB) *dump.Definition {
	t.Helper()
	def, err := dump.ParseConfig(os.DirFS(".."), "dump.yml", nil)
	if err != nil {
		t.Fatalf("the repository's dump.yml: %v", err)
	}
	return def
}

// source loads gitlabfake at scale into a fresh database.
func source(t testing.TB, scale int) string {
	t.Helper()
	dsn := pgtest.New(t)
	conn := pgtest.Connect(t, dsn)
	if _, err := gitlabfake.Load(t.Context(), conn, gitlabfake.Options{Scale: scale}); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func fileBucket(t testing.TB, dir string) *blob.Bucket {
	t.Helper()
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{CreateDir: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func exporter(t testing.TB, dsn string, b *blob.Bucket, rec dump.Recorder, log io.Writer, cfg dump.Config) *dump.Exporter {
	t.Helper()
	cfg.SourceURL = dsn
	if cfg.PseudonymKey == nil {
		cfg.PseudonymKey = testKey
	}
	e, err := dump.New(cfg, dump.Deps{Bucket: b, Recorder: rec, Logger: slog.New(slog.NewJSONHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newStore(t testing.TB) *history.Store {
	t.Helper()
	s, err := history.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// independentCounts counts the public scope of gitlab-org with SQL written
// apart from package dump's: groups by walking parent_id from the root
// (not traversal_ids), and the visibility rules spelled out again.
const independentSQL = `
CREATE TEMP VIEW v_groups AS
WITH RECURSIVE g AS (
  SELECT n.id FROM namespaces n JOIN routes r ON r.source_type = 'Namespace' AND r.source_id = n.id
  WHERE r.path = 'gitlab-org' AND n.visibility_level = 20 AND n.parent_id IS NULL
  UNION
  SELECT c.id FROM namespaces c JOIN g ON c.parent_id = g.id WHERE c.type = 'Group' AND c.visibility_level = 20)
SELECT id FROM g;
CREATE TEMP VIEW v_projects AS
SELECT p.id, f.issues_access_level il, f.merge_requests_access_level ml, f.repository_access_level rl, f.builds_access_level bl, p.public_builds pb
FROM projects p JOIN project_features f ON f.project_id = p.id
WHERE p.visibility_level = 20 AND NOT p.pending_delete AND p.namespace_id IN (SELECT id FROM v_groups);
CREATE TEMP VIEW v_banned AS
SELECT id FROM users WHERE state = 'banned' UNION SELECT user_id FROM banned_users;
CREATE TEMP VIEW v_issues AS
SELECT i.id FROM issues i JOIN v_projects p ON p.id = i.project_id WHERE p.il >= 20 AND NOT i.confidential
  AND i.author_id NOT IN (SELECT id FROM v_banned);
CREATE TEMP VIEW v_mrs AS
SELECT m.id FROM merge_requests m JOIN v_projects p ON p.id = m.target_project_id WHERE p.ml >= 20 AND p.rl >= 20
  AND m.author_id NOT IN (SELECT id FROM v_banned);
CREATE TEMP VIEW v_notes AS
SELECT n.id FROM notes n WHERE NOT n.internal AND NOT coalesce(n.confidential, false)
  AND ((n.noteable_type = 'Issue' AND n.noteable_id IN (SELECT id FROM v_issues))
    OR (n.noteable_type = 'MergeRequest' AND n.noteable_id IN (SELECT id FROM v_mrs)));
CREATE TEMP VIEW v_milestones AS
SELECT id FROM milestones WHERE group_id IN (SELECT id FROM v_groups) OR project_id IN (SELECT id FROM v_projects WHERE il >= 20 OR ml >= 20);
CREATE TEMP VIEW v_pipelines AS
SELECT c.id FROM ci_pipelines c JOIN v_projects p ON p.id = c.project_id
WHERE p.pb AND p.bl >= 20 AND p.rl >= 20 AND (c.merge_request_id IS NULL OR c.merge_request_id IN (SELECT id FROM v_mrs));
`

var independentCounts = map[string]string{
	"namespaces": `SELECT count(*) FROM v_groups`,
	"routes": `SELECT count(*) FROM routes WHERE (source_type = 'Namespace' AND source_id IN (SELECT id FROM v_groups))
		OR (source_type = 'Project' AND source_id IN (SELECT id FROM v_projects))`,
	"projects":              `SELECT count(*) FROM v_projects`,
	"project_features":      `SELECT count(*) FROM project_features WHERE project_id IN (SELECT id FROM v_projects)`,
	"issues":                `SELECT count(*) FROM v_issues`,
	"issue_metrics":         `SELECT count(*) FROM issue_metrics WHERE issue_id IN (SELECT id FROM v_issues)`,
	"merge_requests":        `SELECT count(*) FROM v_mrs`,
	"merge_request_metrics": `SELECT count(*) FROM merge_request_metrics WHERE merge_request_id IN (SELECT id FROM v_mrs)`,
	"notes":                 `SELECT count(*) FROM v_notes`,
	"labels": `SELECT count(*) FROM labels WHERE group_id IN (SELECT id FROM v_groups)
		OR project_id IN (SELECT id FROM v_projects WHERE il >= 20 OR ml >= 20)`,
	"label_links": `SELECT count(*) FROM label_links WHERE (target_type = 'Issue' AND target_id IN (SELECT id FROM v_issues))
		OR (target_type = 'MergeRequest' AND target_id IN (SELECT id FROM v_mrs))`,
	"milestones": `SELECT count(*) FROM v_milestones`,
	"events": `SELECT count(*) FROM events e WHERE e.project_id IN (SELECT id FROM v_projects) AND (
		(e.target_type IS NULL AND e.project_id IN (SELECT id FROM v_projects WHERE rl >= 20))
		OR (e.target_type = 'Issue' AND e.target_id IN (SELECT id FROM v_issues))
		OR (e.target_type = 'MergeRequest' AND e.target_id IN (SELECT id FROM v_mrs))
		OR (e.target_type = 'Note' AND e.target_id IN (SELECT id FROM v_notes))
		OR (e.target_type = 'Milestone' AND e.target_id IN (SELECT id FROM v_milestones))
		OR (e.target_type = 'Project' AND e.target_id IN (SELECT id FROM v_projects))
		OR (e.target_type = 'Ci::Pipeline' AND e.target_id IN (SELECT id FROM v_pipelines)))`,
	"ci_pipelines": `SELECT count(*) FROM v_pipelines`,
}

func countPublic(t testing.TB, dsn string) map[string]int64 {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(t.Context(), independentSQL); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for table, q := range independentCounts {
		var n int64
		if err := conn.QueryRow(t.Context(), q).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// warehouseCounts reads the row count of every table of schema, and the
// number of rows holding a canary in any column.
func warehouseCounts(t testing.TB, path, schema string) (rows, canaries map[string]int64) {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	names, err := db.QueryContext(t.Context(), `SELECT table_name FROM duckdb_tables() WHERE schema_name = ?`, schema)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for names.Next() {
		var n string
		if err := names.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	_ = names.Close()
	rows, canaries = map[string]int64{}, map[string]int64{}
	for _, table := range tables {
		var n, c int64
		q := fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE contains(CAST(t AS VARCHAR), %s)) FROM %q.%q t`,
			"'"+gitlabfake.CanaryPrefix+"'", schema, table)
		if err := db.QueryRowContext(t.Context(), q).Scan(&n, &c); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows[table], canaries[table] = n, c
	}
	return rows, canaries
}

// filesWithCanaries decompresses every dump file under dir and returns the
// ones holding a canary marker or the pseudonym key.
func filesWithCanaries(t testing.TB, dir string, secrets ...string) (files int, bad []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".attrs") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		files++
		for _, s := range append([]string{gitlabfake.CanaryPrefix}, secrets...) {
			if bytes.Contains(data, []byte(s)) {
				bad = append(bad, p+" holds "+s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, bad
}

func openDuck(t testing.TB, path string) *duckdb.Writer {
	t.Helper()
	w, err := duckdb.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestCanaries dumps gitlabfake's instance with the repository's dump.yml
// and loads it into DuckDB: no canary marker (nor the key) in any file,
// warehouse table or log line; every table's row count equals the
// independent count of the public scope; pseudonymized columns hold the
// HMAC of their raw value and never the raw value.
func TestCanaries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	def := repoDefinition(t)
	// A pseudonymized text column with a marker in every raw value: the
	// raw values must not cross.
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `UPDATE merge_requests SET source_branch = 'CANARY-merge_requests-source_branch-' || lpad(id::text, 8, '0')`); err != nil {
		t.Fatal(err)
	}
	for _, tb := range def.Tables {
		if tb.Name == "merge_requests" {
			tb.Pseudonymize = append(tb.Pseudonymize, "source_branch")
		}
	}
	want := countPublic(t, dsn)
	t.Logf("public rows: %v", want)
	for _, table := range []string{"projects", "issues", "merge_requests", "notes", "events", "ci_pipelines", "namespaces"} {
		var total int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if want[table] == 0 || want[table] >= total {
			t.Errorf("%s: %d public of %d rows: the scope should keep some and drop some", table, want[table], total)
		}
	}

	dir := t.TempDir()
	var logs syncBuffer
	store := newStore(t)
	m, err := exporter(t, dsn, fileBucket(t, filepath.Join(dir, "bucket")), store, &logs, dump.Config{SplitSize: 64 << 10}).Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tables) != len(def.Tables) {
		t.Fatalf("manifest lists %d tables, dump.yml %d", len(m.Tables), len(def.Tables))
	}
	split := false
	for _, mt := range m.Tables {
		if mt.Rows != want[mt.Name] {
			t.Errorf("manifest: %s has %d rows, the public scope %d", mt.Name, mt.Rows, want[mt.Name])
		}
		if mt.Rows == 0 {
			t.Errorf("%s: no public rows exported", mt.Name)
		}
		split = split || len(mt.Files) > 1
	}
	if !split {
		t.Error("no table was split at 64 KiB")
	}

	whPath := filepath.Join(dir, "warehouse.duckdb")
	wh := openDuck(t, whPath)
	res, err := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, filepath.Join(dir, "bucket")), wh, store,
		slog.New(slog.NewJSONHandler(&logs, nil))).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != history.DumpSucceeded {
		t.Fatalf("load status %s", res.Status)
	}
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}
	rows, canaries := warehouseCounts(t, whPath, "gitlab_public")
	for table, n := range want {
		if rows[table] != n {
			t.Errorf("warehouse %s: %d rows, the independent count of the public scope is %d", table, rows[table], n)
		}
		if canaries[table] != 0 {
			t.Errorf("warehouse %s: %d rows hold a canary", table, canaries[table])
		}
	}
	if rows[dump.LedgerTable] != 1 {
		t.Errorf("the warehouse's ledger has %d entries, want 1", rows[dump.LedgerTable])
	}
	if len(rows) != len(want)+1 {
		t.Errorf("warehouse has tables %v, want exactly %d and the ledger", rows, len(want))
	}
	n, bad := filesWithCanaries(t, filepath.Join(dir, "bucket"), string(testKey))
	if n < len(def.Tables)+1 || len(bad) > 0 {
		t.Errorf("%d files read; canaries or key found: %v", n, bad)
	}
	for _, s := range []string{gitlabfake.CanaryPrefix, string(testKey)} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("a log line holds %q", s)
		}
	}
	testPseudonyms(t, dsn, whPath)

	dumps, err := store.Dumps(ctx, 0)
	if err != nil || len(dumps) != 1 || dumps[0].Status != history.DumpSucceeded || dumps[0].Location != m.Location || dumps[0].Rows == 0 {
		t.Errorf("history dumps %+v, %v", dumps, err)
	}
	loads, err := store.DumpLoads(ctx, 0)
	if err != nil || len(loads) != 1 || loads[0].Status != history.DumpSucceeded || loads[0].Rows != dumps[0].Rows {
		t.Errorf("history loads %+v, %v", loads, err)
	}
}

// testPseudonyms checks issues.author_id: every value is the HMAC of the
// source's, and none is a raw id.
func testPseudonyms(t *testing.T, dsn, whPath string) {
	conn := pgtest.Connect(t, dsn)
	rows, err := conn.Query(t.Context(), `SELECT id, author_id::text FROM issues WHERE author_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[int64]string{}
	for rows.Next() {
		var id int64
		var a string
		if err := rows.Scan(&id, &a); err != nil {
			t.Fatal(err)
		}
		raw[id] = a
	}
	db, err := sql.Open("duckdb", whPath+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	wr, err := db.QueryContext(t.Context(), `SELECT id, author_id FROM gitlab_public.issues`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wr.Close() }()
	n := 0
	for wr.Next() {
		var id int64
		var a sql.NullString
		if err := wr.Scan(&id, &a); err != nil {
			t.Fatal(err)
		}
		if want := dump.Pseudonym(testKey, raw[id]); a.String != want || a.String == raw[id] {
			t.Fatalf("issue %d: author_id %q, want %q (HMAC of %s)", id, a.String, want, raw[id])
		}
		n++
	}
	if n == 0 {
		t.Error("no issues read back")
	}
}

var pgtestConnect = pgtest.Connect
