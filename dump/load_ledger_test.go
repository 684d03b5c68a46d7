package dump_test

import (
	"path/filepath"
	"testing"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
)

// TestLedgerCommitsWithTheTables loads into PostgreSQL without a history:
// a full dump, then an increment whose ledger entry the warehouse refuses
// (a CHECK constraint on the ledger). The increment's tables roll back
// with the entry: the warehouse holds the full dump, by its tables and its
// ledger, and the next load applies the increment once the ledger takes
// entries again. The ledger write is the last statement of the load's
// transaction, so no crash can leave the tables of one dump with a ledger
// that says another (cli's TestFaultLoadKilled kills loads to check it).
func TestLedgerCommitsWithTheTables(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := source(t, 1)
	bucketDir := filepath.Join(t.TempDir(), "bucket")
	var logs syncBuffer
	x := exporter(t, dsn, fileBucket(t, bucketDir), newStore(t), &logs, dump.Config{})
	full, err := x.Dump(ctx, repoDefinition(t))
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
	if res, err := loader.Load(ctx); err != nil || res.Held != "" || len(res.Loaded) != 1 {
		t.Fatalf("first load: %+v, %v", res, err)
	}
	conn := pgtest.Connect(t, whDSN)
	count := func() int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM gitlab_public.notes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	run(t, pgtest.Connect(t, dsn), `DELETE FROM notes WHERE id IN (SELECT id FROM notes ORDER BY id LIMIT 5)`)
	inc, err := x.Dump(ctx, repoDefinition(t))
	if err != nil || !inc.Incremental() {
		t.Fatalf("second dump: %+v, %v; want an increment", inc, err)
	}
	run(t, conn, `ALTER TABLE gitlab_public.metricgate_ledger ADD CONSTRAINT one_entry CHECK (seq < 2)`)
	if _, err := loader.Load(ctx); err == nil {
		t.Fatal("the increment loaded though its ledger entry was refused")
	}
	if n := count(); n != before {
		t.Errorf("notes after the refused ledger entry: %d rows, want the full dump's %d (the increment rolled back)", n, before)
	}
	ledger, err := wh.Ledger(ctx, "gitlab_public")
	if err != nil || dump.Held(ledger) != full.Location || len(ledger) != 1 {
		t.Fatalf("ledger after the refused entry: %+v, %v; want the full dump alone", ledger, err)
	}
	run(t, conn, `ALTER TABLE gitlab_public.metricgate_ledger DROP CONSTRAINT one_entry`)
	res, err := loader.Load(ctx)
	if err != nil || res.Status != history.DumpSucceeded || res.Held != full.Location || len(res.Loaded) != 1 || res.Loaded[0].Location != inc.Location {
		t.Fatalf("load after the ledger takes entries: %+v, %v; want the increment on %s", res, err, full.Location)
	}
	if n := count(); n >= before {
		t.Errorf("notes after the increment: %d rows, want fewer than the full dump's %d (notes were deleted)", n, before)
	}
	if ledger, err := wh.Ledger(ctx, "gitlab_public"); err != nil || len(ledger) != 2 || ledger[1].Base != full.Location || ledger[1].Kind != dump.KindIncremental {
		t.Errorf("ledger after the increment: %+v, %v", ledger, err)
	}
}
