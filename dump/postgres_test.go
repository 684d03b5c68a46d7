package dump_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
)

// TestLoadPostgres loads a dump into a PostgreSQL warehouse: every table
// with the manifest's rows, arrays and timestamps with zones as in the
// source; a corrupt newer dump is refused and the tables stay.
func TestLoadPostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	def := repoDefinition(t)
	bucketDir := filepath.Join(t.TempDir(), "bucket")
	var logs syncBuffer
	x := exporter(t, dsn, fileBucket(t, bucketDir), nil, &logs, dump.Config{SplitSize: 128 << 10})
	m, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	whDSN := pgtest.New(t)
	wh, err := postgres.Open(ctx, whDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wh.Close() })
	loader := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), wh, nil, nil)
	if _, err := loader.Load(ctx); err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, whDSN)
	count := func(table string) int64 {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM gitlab_public."+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tb := range m.Tables {
		if n := count(tb.Name); n != tb.Rows {
			t.Errorf("%s: %d rows, the manifest says %d", tb.Name, n, tb.Rows)
		}
	}
	src := pgtest.Connect(t, dsn)
	var wantIDs, gotIDs string
	var wantClosed, gotClosed time.Time
	q := `SELECT traversal_ids::text FROM %s WHERE type = 'Group' ORDER BY array_length(traversal_ids, 1) DESC, id LIMIT 1`
	if err := src.QueryRow(ctx, strings.Replace(q, "%s", "namespaces", 1)).Scan(&wantIDs); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, strings.Replace(q, "%s", "gitlab_public.namespaces", 1)).Scan(&gotIDs); err != nil {
		t.Fatal(err)
	}
	q = `SELECT closed_at FROM %s WHERE closed_at IS NOT NULL ORDER BY id LIMIT 1`
	if err := conn.QueryRow(ctx, strings.Replace(q, "%s", "gitlab_public.issues", 1)).Scan(&gotClosed); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := conn.QueryRow(ctx, `SELECT id FROM gitlab_public.issues WHERE closed_at IS NOT NULL ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := src.QueryRow(ctx, `SELECT closed_at FROM issues WHERE id = $1`, id).Scan(&wantClosed); err != nil {
		t.Fatal(err)
	}
	if gotIDs != wantIDs || !gotClosed.Equal(wantClosed) {
		t.Errorf("traversal_ids %s, want %s; closed_at %v, want %v", gotIDs, wantIDs, gotClosed, wantClosed)
	}

	// A newer dump with a flipped byte is refused, the tables stay.
	m2, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	flip(t, filepath.Join(bucketDir, m2.Location, "notes.csv.gz"))
	// Refused by the checksum, or before it by COPY when the flipped byte
	// breaks the CSV first: either names the file.
	if _, err := loader.Load(ctx); err == nil || !strings.Contains(err.Error(), "notes.csv.gz") {
		t.Errorf("load of a corrupt dump: %v", err)
	}
	for _, tb := range m.Tables {
		if n := count(tb.Name); n != tb.Rows {
			t.Errorf("after the refused load %s: %d rows, want the previous %d", tb.Name, n, tb.Rows)
		}
	}
	var staging int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = 'gitlab_public_staging'`).Scan(&staging); err != nil || staging != 0 {
		t.Errorf("staging schema left behind: %d, %v", staging, err)
	}
}
