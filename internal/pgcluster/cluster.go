package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// installHint is appended to every "binaries not found" error.
const installHint = "install the PostgreSQL server with: apt-get install -y postgresql"

// serverBinaries are the programs a cluster needs, all in one directory.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// Options configures [Start]. The zero value starts a temporary cluster on a
// free port with the binaries found in PATH or /usr/lib/postgresql/*/bin.
type Options struct {
	// Dir is the directory holding the cluster: the data directory Dir/data,
	// the unix socket directory Dir/socket and the server log
	// Dir/postgres.log. A Dir that already holds a cluster is reused, and
	// [Cluster.Stop] keeps it (for `make demo`). Dir and its parents must be
	// searchable by the "postgres" user when running as root.
	// Default: a new directory under os.TempDir(), removed by Stop.
	Dir string
	// Port is the TCP port on 127.0.0.1. Default 0: a free port, picked again
	// if another process takes it before the server binds it.
	Port int
	// BinDir is the directory holding initdb, pg_ctl and postgres.
	// Default: the directory of pg_ctl in PATH, else the newest
	// /usr/lib/postgresql/*/bin.
	BinDir string
	// Logf receives progress messages (initdb, start, stop). Default: none.
	Logf func(format string, args ...any)
}

// Cluster is a running PostgreSQL cluster started by [Start]. Its superuser
// is "postgres", trusted on 127.0.0.1 without a password. The methods are
// safe for concurrent use.
type Cluster struct {
	binDir  string
	dir     string
	dataDir string
	sockDir string
	logFile string
	port    int
	temp    bool
	cred    *syscall.Credential
	logf    func(format string, args ...any)

	reaper  *exec.Cmd
	reaperW *os.File

	mu      sync.Mutex
	stopped bool
}

// Start creates (initdb) or reuses a cluster and starts it with pg_ctl. It
// also starts the reaper process that stops the cluster, and removes it if
// temporary, should this process end without calling [Cluster.Stop].
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	binDir, err := findBinDir(opts.BinDir, os.Getenv("PATH"), "/usr/lib/postgresql/*/bin")
	if err != nil {
		return nil, err
	}
	c := &Cluster{binDir: binDir, logf: logf, port: opts.Port}
	if os.Geteuid() == 0 {
		c.cred, err = postgresCredential()
		if err != nil {
			return nil, err
		}
	}
	if err := c.prepareDir(opts.Dir); err != nil {
		return nil, err
	}
	if err := c.startReaper(); err != nil {
		if c.temp {
			_ = os.RemoveAll(c.dir)
		}
		return nil, err
	}
	if err := c.init(ctx); err != nil {
		c.finishReaper(false)
		return nil, err
	}
	if err := c.start(ctx, opts.Port == 0); err != nil {
		c.finishReaper(false)
		return nil, err
	}
	return c, nil
}

// findBinDir returns the directory holding all of serverBinaries: explicit if
// set, else the directory of pg_ctl found in path (symlinks resolved), else
// the newest directory matching glob.
func findBinDir(explicit, path, glob string) (string, error) {
	if explicit != "" {
		if missing := missingBinaries(explicit); len(missing) > 0 {
			return "", fmt.Errorf("find PostgreSQL binaries: %s not found in %s; %s",
				strings.Join(missing, ", "), explicit, installHint)
		}
		return explicit, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "pg_ctl")
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && len(missingBinaries(filepath.Dir(real))) == 0 {
			return filepath.Dir(real), nil
		}
		if len(missingBinaries(dir)) == 0 {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(glob)
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[i], dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if len(missingBinaries(dirs[i])) == 0 {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("find PostgreSQL binaries: %s not found in PATH or %s; %s",
		strings.Join(serverBinaries, ", "), glob, installHint)
}

// versionLess orders /usr/lib/postgresql/<version>/bin paths by version.
func versionLess(a, b string) bool {
	va, errA := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
	vb, errB := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
	if errA != nil || errB != nil {
		return a < b
	}
	return va < vb
}

func missingBinaries(dir string) []string {
	var missing []string
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// postgresCredential returns the credential of the "postgres" system user,
// which runs the server when this process is root.
func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("look up user postgres (PostgreSQL refuses to run as root; %s): %w", installHint, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of user postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// prepareDir creates the cluster directory layout, owned by the user that
// runs the server.
func (c *Cluster) prepareDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "pgtest-")
		if err != nil {
			return fmt.Errorf("create cluster dir: %w", err)
		}
		c.temp = true
		dir = d
	} else {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("resolve cluster dir %s: %w", dir, err)
		}
		dir = abs
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create cluster dir: %w", err)
		}
	}
	c.dir = dir
	c.dataDir = filepath.Join(dir, "data")
	c.sockDir = filepath.Join(dir, "socket")
	c.logFile = filepath.Join(dir, "postgres.log")
	fail := func(err error) error {
		if c.temp {
			_ = os.RemoveAll(dir)
		}
		return err
	}
	if c.cred != nil {
		if err := checkSearchable(filepath.Dir(dir), int(c.cred.Uid)); err != nil {
			return fail(err)
		}
	}
	for _, d := range []string{dir, c.dataDir, c.sockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fail(fmt.Errorf("create cluster dir: %w", err))
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fail(fmt.Errorf("chmod cluster dir: %w", err))
		}
		if c.cred != nil {
			if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return fail(fmt.Errorf("chown cluster dir to postgres: %w", err))
			}
		}
	}
	return nil
}

// checkSearchable reports an error unless user uid can traverse dir and all
// of its parents.
func checkSearchable(dir string, uid int) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check cluster dir parent: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		searchable := fi.Mode().Perm()&0o001 != 0 || (ok && int(st.Uid) == uid && fi.Mode().Perm()&0o100 != 0)
		if !searchable {
			return fmt.Errorf("check cluster dir parent: %s is not searchable by user postgres (mode %v); chmod o+x it or use a directory under %s",
				d, fi.Mode().Perm(), os.TempDir())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// command returns cmd for one of the server binaries, run as the server user.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// init runs initdb unless the data directory already holds a cluster, and
// makes postgresql.conf include pgtest.conf.
func (c *Cluster) init(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		c.logf("pgtest: reusing cluster in %s", c.dataDir)
	} else {
		c.logf("pgtest: initdb %s", c.dataDir)
		err := c.run(ctx, "initdb", "-D", c.dataDir, "-U", "postgres", "-A", "trust",
			"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
		if err != nil {
			return fmt.Errorf("create cluster: %w", err)
		}
	}
	conf := filepath.Join(c.dataDir, "postgresql.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return fmt.Errorf("read postgresql.conf: %w", err)
	}
	const include = "include_if_exists = 'pgtest.conf'\n"
	if !bytes.Contains(b, []byte(include)) {
		f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("open postgresql.conf: %w", err)
		}
		_, err = f.WriteString("\n" + include)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write postgresql.conf: %w", err)
		}
	}
	return nil
}

// writeConf writes the settings of this cluster to pgtest.conf.
func (c *Cluster) writeConf() error {
	sock := c.sockDir
	if len(sock)+len("/.s.PGSQL.65535") >= 107 {
		c.logf("pgtest: socket dir path %s too long for a unix socket; TCP only", sock)
		sock = ""
	}
	conf := fmt.Sprintf(`# Written by pgtest on every start: fast, not durable.
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
max_connections = 200
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 2GB
checkpoint_timeout = 30min
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
log_min_messages = warning
`, c.port, sock)
	p := filepath.Join(c.dataDir, "pgtest.conf")
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write pgtest.conf: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(p, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("chown pgtest.conf: %w", err)
		}
	}
	return nil
}

// start starts the server; with pickPort it picks a free port, and picks
// another one if the server could not bind it.
func (c *Cluster) start(ctx context.Context, pickPort bool) error {
	const attempts = 5
	for attempt := 1; ; attempt++ {
		if pickPort {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.port = p
		}
		if err := c.writeConf(); err != nil {
			return err
		}
		logStart := fileSize(c.logFile)
		c.logf("pgtest: starting PostgreSQL in %s on 127.0.0.1:%d", c.dataDir, c.port)
		err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "120", "-s", "-D", c.dataDir, "-l", c.logFile)
		if err == nil {
			return nil
		}
		tail := readFrom(c.logFile, logStart)
		if pickPort && attempt < attempts && ctx.Err() == nil &&
			(strings.Contains(tail, "could not bind") || strings.Contains(tail, "already in use")) {
			c.logf("pgtest: port %d taken, retrying", c.port)
			continue
		}
		return fmt.Errorf("start cluster: %w\nserver log:\n%s", err, tail)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0") //nolint:noctx // a local bind does not block
	if err != nil {
		return 0, fmt.Errorf("pick free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("pick free port: %w", err)
	}
	return port, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the content of path after offset, at most the last 4KB.
func readFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	b = b[offset:]
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// reaperScript runs next to the cluster. It waits on stdin, a pipe whose
// write end only this Go process holds: "stop" means the cluster was stopped
// properly; EOF without it means the Go process is gone, so the reaper stops
// the postmaster (SIGQUIT: immediate shutdown, then SIGKILL) and removes the
// cluster directory if it is temporary. Arguments: $1 cluster dir, $2 data
// dir, $3 1 to remove the cluster dir.
const reaperScript = `
trap '' HUP INT TERM QUIT PIPE
line=
IFS= read -r line
[ "$line" = stop ] && exit 0
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		s=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
		[ "$s" = Z ] && return 1
	fi
	return 0
}
ours() {
	[ -r "/proc/$1/cmdline" ] || return 0
	tr '\000' ' ' < "/proc/$1/cmdline" | grep -qF -- "$2"
}
pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
case "$pid" in ''|*[!0-9]*) pid= ;; esac
if [ -n "$pid" ] && alive "$pid" && ours "$pid" "$2"; then
	kill -QUIT "$pid" 2>/dev/null
	i=0
	while alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
	fi
fi
[ "$3" = 1 ] && rm -rf -- "$1"
exit 0
`

func (c *Cluster) startReaper() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start reaper: %w", err)
	}
	remove := "0"
	if c.temp {
		remove = "1"
	}
	cmd := exec.Command( //nolint:noctx // the reaper must outlive every context: it cleans up after a crash
		"/bin/sh", "-c", reaperScript, "pgtest-reaper", c.dir, c.dataDir, remove)
	cmd.Stdin = r
	// Own process group: a Ctrl-C aimed at `go test` must not kill the
	// reaper before it has cleaned up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return fmt.Errorf("start reaper: %w", err)
	}
	_ = r.Close() // the child has its copy
	c.reaper = cmd
	c.reaperW = w
	return nil
}

// finishReaper ends the reaper: with clean it exits at once, otherwise it
// stops the server and removes a temporary cluster dir before exiting.
func (c *Cluster) finishReaper(clean bool) {
	if clean {
		_, _ = c.reaperW.WriteString("stop\n")
	}
	_ = c.reaperW.Close()
	_ = c.reaper.Wait() // its exit status says nothing the server's state does not
}

// Stop stops the server (pg_ctl stop -m fast), removes the cluster directory
// if it is temporary, and ends the reaper. Stopping a stopped cluster does
// nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	c.logf("pgtest: stopping PostgreSQL in %s", c.dataDir)
	if err := c.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-s", "-m", "fast", "-D", c.dataDir); err != nil {
		c.finishReaper(false) // immediate shutdown and cleanup
		return fmt.Errorf("stop cluster: %w", err)
	}
	var err error
	if c.temp {
		if rerr := os.RemoveAll(c.dir); rerr != nil {
			err = fmt.Errorf("remove cluster dir: %w", rerr)
		}
	}
	c.finishReaper(err == nil)
	return err
}

// Restart restarts the server (pg_ctl restart -m fast) on the same port with
// the same data. Open connections are terminated.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errors.New("restart cluster: cluster is stopped")
	}
	c.logf("pgtest: restarting PostgreSQL in %s", c.dataDir)
	if err := c.run(ctx, "pg_ctl", "restart", "-w", "-t", "120", "-s", "-m", "fast", "-D", c.dataDir, "-l", c.logFile); err != nil {
		return fmt.Errorf("restart cluster: %w", err)
	}
	return nil
}

// DSN returns the URL of database on this cluster, as the trusted superuser
// postgres: postgres://postgres@127.0.0.1:PORT/database?sslmode=disable.
func (c *Cluster) DSN(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates the database name on this cluster.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	return CreateDatabaseAt(ctx, c.DSN("postgres"), name)
}

// Port returns the TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// BinDir returns the directory of the PostgreSQL binaries in use (pg_dump,
// psql and friends usually live there too).
func (c *Cluster) BinDir() string { return c.binDir }

// DataDir returns the data directory (PGDATA) of the cluster.
func (c *Cluster) DataDir() string { return c.dataDir }

// CreateDatabaseAt connects to adminDSN and creates database name.
func CreateDatabaseAt(ctx context.Context, adminDSN, name string) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabaseAt connects to adminDSN and drops database name, terminating
// its connections.
func DropDatabaseAt(ctx context.Context, adminDSN, name string) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// Detach ends the reaper without stopping the server, so that a cluster
// kept in Options.Dir outlives this process (metricgate sample). Stop it
// later with [StopDir]. After Detach, Stop does nothing.
func (c *Cluster) Detach() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	c.finishReaper(true)
}

// StopDir stops the server of a cluster kept in dir (see Options.Dir), as
// pg_ctl stop -m fast, and reports whether one was running.
func StopDir(ctx context.Context, dir string) (bool, error) {
	dataDir := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	binDir, err := findBinDir("", os.Getenv("PATH"), "/usr/lib/postgresql/*/bin")
	if err != nil {
		return false, err
	}
	c := &Cluster{binDir: binDir, dir: dir, dataDir: dataDir, logf: func(string, ...any) {}}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresCredential(); err != nil {
			return false, err
		}
	}
	if err := c.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-s", "-m", "fast", "-D", dataDir); err != nil {
		return false, fmt.Errorf("stop the cluster in %s: %w", dir, err)
	}
	return true, nil
}
