package dump_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
)

// TestDumpAcrossDatabases dumps with ci_pipelines (source: ci) in a
// database of its own that has none of the main tables: its rows come
// from that database, scoped by the projects and merge requests of the
// main snapshot, exactly the public pipelines; an increment there works
// the same way.
func TestDumpAcrossDatabases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	mainDSN := source(t, 1)
	ciDSN := pgtest.New(t)
	ci := pgtest.Connect(t, ciDSN)
	if _, err := gitlabfake.Load(ctx, ci, gitlabfake.Options{Scale: 1}); err != nil {
		t.Fatal(err)
	}
	// The ci database holds the CI tables only: any join to a main table
	// would fail.
	for _, tb := range gitlabfake.Tables() {
		if tb != "ci_pipelines" && tb != "ci_builds" {
			run(t, ci, fmt.Sprintf("DROP TABLE %s CASCADE", tb))
		}
	}
	// A mark that only the ci database has.
	run(t, ci, `UPDATE ci_pipelines SET ref = 'from-the-ci-database'`)
	def := repoDefinition(t)
	store := newStore(t)
	bucketDir := filepath.Join(t.TempDir(), "bucket")
	var logs syncBuffer
	x := exporter(t, mainDSN, fileBucket(t, bucketDir), store, &logs, dump.Config{Sources: map[string]dump.Source{"ci": {URL: ciDSN}}})
	m, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if _, ok := m.Snapshots["ci"]; !ok || len(m.Snapshots) != 2 {
		t.Errorf("snapshots %v, want main and ci", m.Snapshots)
	}
	want := countPublic(t, mainDSN)
	if got := table(t, m, "ci_pipelines").Rows; got != want["ci_pipelines"] || got == 0 {
		t.Errorf("ci_pipelines: %d rows, the public pipelines are %d", got, want["ci_pipelines"])
	}
	whDSN := pgtest.New(t)
	pg, err := postgres.Open(ctx, whDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	loader := dump.NewLoader(dump.LoadConfig{}, fileBucket(t, bucketDir), pg, newStore(t), nil)
	if _, err := loader.Load(ctx); err != nil {
		t.Fatal(err)
	}
	wh := pgtest.Connect(t, whDSN)
	var other int64
	if err := wh.QueryRow(ctx, `SELECT count(*) FROM gitlab_public.ci_pipelines WHERE ref <> 'from-the-ci-database'`).Scan(&other); err != nil || other != 0 {
		t.Errorf("%d pipelines not from the ci database (%v)", other, err)
	}

	// An increment: a pipeline deleted and one changed in the ci database.
	var gone, changed int64
	if err := wh.QueryRow(ctx, `SELECT min(id), max(id) FROM gitlab_public.ci_pipelines`).Scan(&gone, &changed); err != nil {
		t.Fatal(err)
	}
	run(t, ci, fmt.Sprintf(`DELETE FROM ci_builds WHERE commit_id = %d`, gone), fmt.Sprintf(`DELETE FROM ci_pipelines WHERE id = %d`, gone),
		fmt.Sprintf(`UPDATE ci_pipelines SET status = 'changed', updated_at = %s WHERE id = %d`, utcNow, changed))
	inc, err := x.Dump(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if p := table(t, inc, "ci_pipelines"); !inc.Incremental() || p.Deletes != 1 || p.Rows < 1 {
		t.Errorf("increment: %s, ci_pipelines %d upserts %d deletes; want an increment with the change and the delete", inc.Kind, p.Rows, p.Deletes)
	}
	if _, err := loader.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	var status string
	if err := wh.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FILTER (WHERE id = %d), max(status) FILTER (WHERE id = %d) FROM gitlab_public.ci_pipelines`, gone, changed)).Scan(&n, &status); err != nil || n != 0 || status != "changed" {
		t.Errorf("after the increment: deleted pipeline %d times, changed status %q (%v)", n, status, err)
	}
}
