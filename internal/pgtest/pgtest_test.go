package pgtest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewIsolatesParallelTests(t *testing.T) {
	t.Parallel()
	for i := range 6 {
		t.Run(fmt.Sprintf("db%d", i), func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Connect(t, pgtest.New(t))
			ctx := t.Context()
			var tables int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Fatalf("fresh database has %d tables in public, want 0", tables)
			}
			if _, err := conn.Exec(ctx, `CREATE TABLE isolation (owner int)`); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, `INSERT INTO isolation VALUES ($1)`, i); err != nil {
				t.Fatal(err)
			}
			// Give the siblings time to insert into their own tables.
			if _, err := conn.Exec(ctx, `SELECT pg_sleep(0.2)`); err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, `SELECT owner FROM isolation`)
			if err != nil {
				t.Fatal(err)
			}
			owners, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil {
				t.Fatal(err)
			}
			if len(owners) != 1 || owners[0] != i {
				t.Fatalf("isolation table holds %v, want [%d]", owners, i)
			}
		})
	}
}

func TestNewDropsDatabaseAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		conn := pgtest.Connect(t, pgtest.New(t))
		if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if len(name) > 63 || strings.ToLower(name) != name {
			t.Errorf("database name %q is not a lowercase name of at most 63 bytes", name)
		}
	})
	conn := pgtest.Connect(t, pgtest.New(t))
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

// TestSharedClusterRestart does not call t.Parallel: restarting breaks the
// connections of every test using the shared cluster. With
// TEST_DATABASE_URL set there is no shared cluster, and it restarts one of
// its own.
func TestSharedClusterRestart(t *testing.T) {
	ctx := t.Context()
	var c *pgtest.Cluster
	var dsn string
	if os.Getenv(pgtest.EnvDatabaseURL) == "" {
		c = pgtest.SharedCluster(t)
		dsn = pgtest.New(t)
	} else {
		var err error
		c, err = pgtest.Start(ctx, pgtest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Stop(context.Background()) })
		if err := c.CreateDatabase(ctx, "restart"); err != nil {
			t.Fatal(err)
		}
		dsn = c.DSN("restart")
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `CREATE TABLE kept AS SELECT 42 AS answer`); err != nil {
		t.Fatal(err)
	}
	var pidBefore int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pidBefore); err != nil {
		t.Fatal(err)
	}
	port := c.Port()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Port() != port {
		t.Errorf("port after restart = %d, want %d", c.Port(), port)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Errorf("connection opened before the restart still works; want it terminated")
	}
	conn = pgtest.Connect(t, dsn)
	var answer int
	if err := conn.QueryRow(ctx, `SELECT answer FROM kept`).Scan(&answer); err != nil {
		t.Fatalf("read table after restart: %v", err)
	}
	if answer != 42 {
		t.Errorf("answer = %d after restart, want 42", answer)
	}
	if !strings.Contains(c.DSN("x"), ":"+strconv.Itoa(port)+"/x") {
		t.Errorf("DSN(x) = %s, want port %d and database x", c.DSN("x"), port)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION")); err != nil {
		t.Errorf("DataDir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.BinDir(), "pg_ctl")); err != nil {
		t.Errorf("BinDir: %v", err)
	}
}

// TestDatabaseURL points TEST_DATABASE_URL at a cluster of its own.
func TestDatabaseURL(t *testing.T) {
	ctx := t.Context()
	c, err := pgtest.Start(ctx, pgtest.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(filepath.Dir(c.DataDir())); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary cluster dir after Stop: %v, want it removed", err)
		}
	})
	if err := c.CreateDatabase(ctx, "external"); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{
		c.DSN("external"),
		fmt.Sprintf("host=127.0.0.1 port=%d user=postgres sslmode=disable", c.Port()),
	} {
		t.Run("", func(t *testing.T) {
			t.Setenv(pgtest.EnvDatabaseURL, base)
			var name string
			t.Run("inner", func(t *testing.T) {
				dsn := pgtest.New(t)
				conn := pgtest.Connect(t, dsn)
				var port int
				if err := conn.QueryRow(ctx, `SELECT current_database(), current_setting('port')::int`).Scan(&name, &port); err != nil {
					t.Fatal(err)
				}
				if port != c.Port() {
					t.Errorf("New connected to port %d, want the TEST_DATABASE_URL server on %d", port, c.Port())
				}
				if name == "external" || name == "postgres" {
					t.Errorf("New returned the database of TEST_DATABASE_URL itself (%s), want a fresh one", name)
				}
			})
			conn := pgtest.Connect(t, c.DSN("postgres"))
			var exists bool
			if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
				t.Fatal(err)
			}
			if exists {
				t.Errorf("database %s was not dropped on the TEST_DATABASE_URL server", name)
			}
		})
	}
}

func TestDirIsKept(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	parent := t.TempDir()
	// t.TempDir and its parent are 0700; when running as root the postgres
	// user must be able to reach Dir.
	for _, d := range []string{filepath.Dir(parent), parent} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(parent, "demo")
	c, err := pgtest.Start(ctx, pgtest.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Dir(c.DataDir()); got != dir {
		t.Errorf("DataDir = %s, want it inside %s", c.DataDir(), dir)
	}
	if err := c.CreateDatabase(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("cluster in Dir after Stop: %v, want it kept", err)
	}
	c, err = pgtest.Start(ctx, pgtest.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	conn := pgtest.Connect(t, c.DSN("kept"))
	if err := conn.Ping(ctx); err != nil {
		t.Errorf("database created before the restart of a kept cluster: %v", err)
	}
}

func TestMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := pgtest.Start(t.Context(), pgtest.Options{BinDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start with a BinDir without PostgreSQL succeeded")
	}
	for _, want := range []string{"initdb", "pg_ctl", "postgres", "apt-get install -y postgresql"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

const helperEnv = "PGTEST_REAPER_HELPER"

// TestReaperHelper is the child process of TestReaper: it starts a cluster,
// reports it on stdout, and dies without stopping it. It does nothing in a
// normal test run.
func TestReaperHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	c, err := pgtest.Start(context.Background(), pgtest.Options{})
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		os.Exit(3)
	}
	pid, err := postmasterPID(c.DataDir())
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		os.Exit(3)
	}
	fmt.Printf("CLUSTER %d %s\n", pid, filepath.Dir(c.DataDir()))
	switch mode {
	case "exit":
		os.Exit(0)
	case "panic":
		panic("pgtest reaper helper panics on purpose")
	case "fatal":
		t.Fatal("pgtest reaper helper fails on purpose")
	case "sigkill":
		select {} // the parent kills us
	}
}

func TestReaper(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"exit", "panic", "fatal", "sigkill"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestReaperHelper$", "-test.count=1") //nolint:noctx // the child is killed by the test itself
			cmd.Env = append(os.Environ(), helperEnv+"="+mode)
			cmd.Env = append(cmd.Env, pgtest.EnvDatabaseURL+"=")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			defer func() {
				if t.Failed() {
					t.Logf("helper stderr:\n%s", stderr.String())
				}
			}()
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var pid int
			var dir string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if rest, ok := strings.CutPrefix(line, "CLUSTER "); ok {
					pidStr, d, _ := strings.Cut(rest, " ")
					pid, _ = strconv.Atoi(pidStr)
					dir = d
					break
				}
				if strings.HasPrefix(line, "ERROR ") {
					t.Fatalf("helper: %s", line)
				}
			}
			if pid == 0 || dir == "" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper did not report its cluster")
			}
			if !processAlive(pid) {
				t.Fatalf("postmaster %d not running while the helper is alive", pid)
			}
			if mode == "sigkill" {
				cmd.Process.Signal(syscall.SIGKILL)
			}
			go func() {
				for sc.Scan() {
				}
			}()
			err = cmd.Wait()
			if mode == "exit" && err != nil {
				t.Errorf("helper exit: %v, want status 0", err)
			}
			if mode != "exit" && err == nil {
				t.Errorf("helper exited with status 0 in mode %s", mode)
			}
			deadline := time.Now().Add(30 * time.Second)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for processAlive(pid) || exists(dir) {
				if time.Now().After(deadline) {
					t.Fatalf("30s after the helper died: postmaster %d alive=%v, cluster dir %s exists=%v",
						pid, processAlive(pid), dir, exists(dir))
				}
				<-tick.C
			}
		})
	}
}

func postmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
