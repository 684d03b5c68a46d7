package snapshot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/internal/snapshot"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// source returns a fresh database holding events(id) with n rows, and a
// connection to it for changing it.
func source(t *testing.T, n int) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.New(t)
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO events (id) SELECT generate_series(1, $1::int)`, n); err != nil {
		t.Fatal(err)
	}
	return dsn, conn
}

func count(ctx context.Context, t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) int {
	t.Helper()
	var n int
	if err := q.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sessions returns the number of sessions named appName, once there are
// none or after wait.
func sessions(ctx context.Context, t *testing.T, admin *pgx.Conn, appName string, wait time.Duration) int {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, appName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return 0
		}
		select {
		case <-tick.C:
		case <-deadline:
			return n
		}
	}
}

// TestWorkersSeeTheCoordinatorsInstant: workers attached to the exported
// snapshot, before and after the source changes and while it changes,
// all see the rows as of the instant the coordinator opened, as the
// coordinator does; a transaction not attached sees the change.
func TestWorkersSeeTheCoordinatorsInstant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, admin := source(t, 100)
	c, err := snapshot.Open(ctx, snapshot.Config{URL: dsn, ApplicationName: "snapshot test coordinator", Idle: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if c.ID == "" || c.AsOf.Location() != time.UTC || time.Since(c.AsOf) > time.Minute {
		t.Fatalf("snapshot %q as of %s: want an id and now, in UTC", c.ID, c.AsOf)
	}

	attach := func(name string) (*pgx.Conn, pgx.Tx) {
		conn, err := snapshot.Connect(ctx, dsn, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { snapshot.CloseConn(ctx, conn) })
		tx, err := snapshot.Attach(ctx, conn, c.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(context.WithoutCancel(ctx)) })
		return conn, tx
	}
	_, before := attach("snapshot test worker 1")
	// The source changes while workers attach: rows come and go, in a
	// transaction that commits between two attachments.
	change, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := change.Exec(ctx, `INSERT INTO events (id) SELECT generate_series(101, 150)`); err != nil {
		t.Fatal(err)
	}
	if _, err := change.Exec(ctx, `DELETE FROM events WHERE id <= 10`); err != nil {
		t.Fatal(err)
	}
	_, during := attach("snapshot test worker 2")
	if err := change.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_, after := attach("snapshot test worker 3")

	if n := count(ctx, t, admin); n != 140 {
		t.Fatalf("the source has %d rows after the change, want 140", n)
	}
	for name, q := range map[string]pgx.Tx{"coordinator": c.Tx, "worker attached before": before,
		"worker attached during": during, "worker attached after": after} {
		if n := count(ctx, t, q); n != 100 {
			t.Errorf("%s sees %d rows, want the 100 of the snapshot", name, n)
		}
	}
	// The workers' transactions are read-only.
	if _, err := after.Exec(ctx, "DELETE FROM events"); err == nil {
		t.Error("a worker deleted rows")
	}
}

// TestApplicationNames: the coordinator and the workers show in
// pg_stat_activity under their names.
func TestApplicationNames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, admin := source(t, 1)
	c, err := snapshot.Open(ctx, snapshot.Config{URL: dsn, ApplicationName: "snapshot test coordinator"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	w, err := snapshot.Connect(ctx, dsn, "snapshot test worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer snapshot.CloseConn(ctx, w)
	var names []string
	if err := admin.QueryRow(ctx, `SELECT array_agg(application_name ORDER BY application_name) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'snapshot test %'`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "snapshot test coordinator,snapshot test worker" {
		t.Errorf("sessions %q", names)
	}
}

// TestStaleSourceIsRefused: a source whose as-of time is older than
// max_age is refused with its age, as-of time and expression, and its
// coordinator is closed; one within max_age is not.
func TestStaleSourceIsRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, admin := source(t, 3)
	if _, err := admin.Exec(ctx, "UPDATE events SET at = '2026-01-01T00:00:00Z'"); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 1, 2, 6, 0, 0, 0, time.UTC) } // 30h later
	cfg := snapshot.Config{URL: dsn, ApplicationName: "snapshot test stale", AsOf: "(SELECT max(at) FROM events)",
		Name: "main", MaxAge: 26 * time.Hour, Now: now}
	_, err := snapshot.Open(ctx, cfg)
	var stale *snapshot.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("Open: %v, want a *StaleError", err)
	}
	want := "source main is 30h0m0s old (as of 2026-01-01T00:00:00Z, by (SELECT max(at) FROM events)); max_age is 26h0m0s: refusing to load stale numbers"
	if err.Error() != want {
		t.Errorf("Open:\n got %s\nwant %s", err, want)
	}
	// The coordinator's backend exits once it reads the connection's end:
	// give it a few seconds.
	if left := sessions(ctx, t, admin, "snapshot test stale", 10*time.Second); left != 0 {
		t.Errorf("%d coordinator sessions left open after the refusal", left)
	}

	cfg.MaxAge = 31 * time.Hour
	c, err := snapshot.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("a source within max_age: %v", err)
	}
	defer c.Close(ctx)
	if !c.AsOf.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("as of %s", c.AsOf)
	}
}

// TestLostSnapshot: once the coordinator is closed, attaching fails as
// Lost, with the source's error passed through Seal at stage snapshot.
func TestLostSnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, _ := source(t, 1)
	c, err := snapshot.Open(ctx, snapshot.Config{URL: dsn, ApplicationName: "snapshot test coordinator"})
	if err != nil {
		t.Fatal(err)
	}
	id := c.ID
	c.Close(ctx)
	conn, err := snapshot.Connect(ctx, dsn, "snapshot test worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer snapshot.CloseConn(ctx, conn)
	var stages []string
	seal := func(_ context.Context, stage string, err error) error {
		stages = append(stages, stage)
		return errors.New("sealed")
	}
	_, err = snapshot.Attach(ctx, conn, id, seal)
	var ae *snapshot.AttachError
	if !errors.As(err, &ae) || !ae.Lost || ae.Err.Error() != "sealed" || strings.Join(stages, ",") != "snapshot" {
		t.Fatalf("Attach to a closed coordinator's snapshot: %v (%#v), stages %q; want a Lost *AttachError sealed at snapshot", err, ae, stages)
	}
	// The connection is usable again: the failed transaction was ended.
	if n := count(ctx, t, conn); n != 1 {
		t.Errorf("%d rows", n)
	}
}

// TestOpenErrors: the errors of each step are worded, the source's passed
// through Seal at their stage, and the connection string never quoted.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn, _ := source(t, 0)
	for _, tc := range []struct {
		name, url, asOf string
		seal            bool
		want, stage     string
	}{
		{"empty source", dsn, "(SELECT max(at) FROM events)", false, "as_of ((SELECT max(at) FROM events)) is NULL: the source looks empty", ""},
		{"bad as_of", dsn, "nonsense()", false, "read as_of (nonsense()): ERROR: function nonsense() does not exist (SQLSTATE 42883)", ""},
		{"bad as_of sealed", dsn, "nonsense()", true, "read as_of (nonsense()): sealed", "as_of"},
		{"malformed url", "postgres://u:secret@h:notaport/db", "", true, "parse the source URL: malformed connection string", ""},
		{"refused", "postgres://u:secret@127.0.0.1:1/db?connect_timeout=5", "", true, "sealed", "connect"},
		{"refused unsealed", "postgres://u:secret@127.0.0.1:1/db?connect_timeout=5", "", false, "connect to the source: ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := snapshot.Config{URL: tc.url, ApplicationName: "snapshot test", AsOf: tc.asOf}
			var stages []string
			if tc.seal {
				cfg.Seal = func(_ context.Context, stage string, err error) error {
					stages = append(stages, stage)
					return errors.New("sealed")
				}
			}
			c, err := snapshot.Open(ctx, cfg)
			if err == nil {
				c.Close(ctx)
				t.Fatal("Open: no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
			if strings.Join(stages, ",") != tc.stage {
				t.Errorf("sealed at %q, want %q", stages, tc.stage)
			}
		})
	}
}
