package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/pgcluster"
)

// EnvDatabaseURL names the environment variable that points the tests at an
// existing server instead of a throwaway cluster.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// shared is the one cluster of the test binary, started on first use.
var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// sharedCluster starts the shared cluster once and returns it.
func sharedCluster() (*Cluster, error) {
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeoutCause(context.Background(), 3*time.Minute,
			fmt.Errorf("pgtest: starting the shared cluster took longer than 3m"))
		defer cancel()
		shared.cluster, shared.err = Start(ctx, Options{})
	})
	return shared.cluster, shared.err
}

// Main is the body of a TestMain using this package: it runs the tests, stops
// the shared cluster if one was started, and exits with the tests' code (1 if
// the tests passed but the cluster failed to stop).
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	// After this no test can start the shared cluster any more, and the
	// fields below are safe to read.
	shared.once.Do(func() {})
	if c := shared.cluster; c != nil {
		ctx, cancel := context.WithTimeoutCause(context.Background(), 2*time.Minute,
			fmt.Errorf("pgtest: stopping the shared cluster took longer than 2m"))
		if err := c.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		cancel()
	}
	os.Exit(code)
}

// New returns the DSN of a fresh, empty database for t and drops the
// database (WITH (FORCE)) when t ends. The database lives in the test
// binary's shared cluster, started on first use, or on the server named by
// TEST_DATABASE_URL when that is set. Databases of different tests are
// independent, so tests using New may run in parallel. New fails t if the
// cluster cannot be started or the database cannot be created.
func New(t testing.TB) string {
	t.Helper()
	admin, err := adminDSN()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pgcluster.CreateDatabaseAt(ctx, admin, name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pgcluster.DropDatabaseAt(ctx, admin, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// SharedCluster returns the shared cluster of the test binary, starting it
// on first use, for tests that need the cluster itself (Restart, Port,
// BinDir). It fails t when TEST_DATABASE_URL is set, since there is no
// cluster to control then; such tests can start their own with [Start].
//
// Restarting the shared cluster breaks the connections of every test using
// it: call Restart only from a test that does not call t.Parallel (Go runs
// top-level tests without t.Parallel while the parallel ones wait), or use a
// cluster of your own.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	if os.Getenv(EnvDatabaseURL) != "" {
		t.Fatalf("pgtest: SharedCluster needs a throwaway cluster, but %s is set; start one with pgtest.Start or unset %s",
			EnvDatabaseURL, EnvDatabaseURL)
	}
	c, err := sharedCluster()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return c
}

// adminDSN returns the DSN used to create and drop test databases.
func adminDSN() (string, error) {
	if dsn := os.Getenv(EnvDatabaseURL); dsn != "" {
		return dsn, nil
	}
	c, err := sharedCluster()
	if err != nil {
		return "", err
	}
	return c.DSN("postgres"), nil
}

// databaseName makes a unique, valid database name from a test name:
// lowercase letters, digits and underscores, at most 63 bytes, ending in a
// random suffix so parallel test binaries sharing one server do not collide.
func databaseName(testName string) string {
	var b strings.Builder
	b.WriteString("test_")
	underscore := true
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	var rnd [5]byte
	rand.Read(rnd[:])
	suffix := hex.EncodeToString(rnd[:])
	name := strings.TrimRight(b.String(), "_")
	if max := 63 - len(suffix) - 1; len(name) > max {
		name = strings.TrimRight(name[:max], "_")
	}
	return name + "_" + suffix
}

// withDatabase returns dsn with its database replaced by name. dsn is a
// postgres:// URL or a key=value connection string.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// The url.Error would repeat the URL, password included.
			return "", fmt.Errorf("parse %s: not a valid URL", EnvDatabaseURL)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

// Connect opens a connection to dsn for the test and closes it at cleanup.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
