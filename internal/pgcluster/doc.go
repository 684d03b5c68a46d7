// Package pgcluster starts throwaway PostgreSQL clusters from the system's
// PostgreSQL server binaries (initdb, pg_ctl, postgres), for `metricgate
// demo` and `metricgate sample` and, through package pgtest, for tests. It
// does not import testing: the metricgate binary links it.
//
// # Clusters
//
// [Start] creates a cluster with initdb (or reuses the one already in
// [Options.Dir]) and starts it with pg_ctl, tuned for speed rather than
// durability: fsync, synchronous_commit and full_page_writes are off, JIT is
// off, shared_buffers is 64MB, max_connections is 200 and every local
// connection is trusted. The server listens on 127.0.0.1 only, on a free port
// (or [Options.Port]), and on a unix socket inside the cluster directory. The
// session time zone is UTC.
//
// The binaries are looked up in PATH first and then in the newest
// /usr/lib/postgresql/*/bin. When they cannot be found, [Start] fails with an
// error that says what to install (apt-get install -y postgresql); tests never
// skip because PostgreSQL is missing.
//
// PostgreSQL refuses to run as root. When the process runs as root, initdb,
// pg_ctl and postgres run as the "postgres" system user, and the cluster
// directory is created for that user.
//
// # No leftovers
//
// Next to every cluster runs a small reaper process (a shell script) that holds
// the read end of a pipe whose write end belongs to the Go process. When the Go
// process ends without calling [Cluster.Stop] — os.Exit, a panic, a fatal
// signal, SIGKILL — the kernel closes the pipe, and the reaper stops the
// postmaster immediately (SIGQUIT, then SIGKILL) and removes the cluster
// directory if it was a temporary one. [Cluster.Stop] tells the reaper to exit
// without doing anything.
package pgcluster
