package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgcluster"
)

const (
	sampleArgs    = "[--dir DIR] [--scale N] [--stop]"
	sampleSummary = "start a lasting GitLab-shaped sample database and write the configuration to plan and run queries on it"
)

// sampleConfig is the configuration sample writes: the sample database as
// the source, a history database beside it, a DuckDB warehouse in DIR, and
// approval none (trying queries only).
const sampleConfig = `# Written by metricgate sample: a GitLab-shaped sample database (fake data,
# scale %d) on a local PostgreSQL that keeps running until
# "metricgate sample --stop". For trying queries only: approval none runs
# files that no one has reviewed.
sources:
  main:
    url: postgres://postgres@127.0.0.1:%d/gitlab?sslmode=disable
history:
  url: postgres://postgres@127.0.0.1:%d/metricgate?sslmode=disable
warehouse:
  url: duckdb://%s
queries:
  approval: none
`

func cmdSample(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "sample", sampleArgs, sampleSummary)
	dir := fl.String("dir", ".sample", "`directory` of the sample cluster, its configuration and its warehouse")
	scale := fl.Int("scale", 1, "size of the generated GitLab data (1 loads in seconds)")
	stop := fl.Bool("stop", false, "stop the sample database (its data stays in DIR for the next start)")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if *scale < 1 {
		return e.fail(ExitUsage, "sample", "--scale must be at least 1")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return e.fail(ExitUsage, "sample", "--dir %s: %v", *dir, err)
	}
	if *stop {
		ran, err := pgcluster.StopDir(ctx, filepath.Join(abs, "cluster"))
		switch {
		case err != nil:
			return e.fail(ExitProblems, "sample", "%v", err)
		case ran:
			fmt.Fprintf(e.stdout, "stopped the sample database in %s (its data stays there; metricgate sample starts it again)\n", *dir)
		default:
			fmt.Fprintf(e.stdout, "no sample database is running in %s\n", *dir)
		}
		return ExitOK
	}
	configPath := filepath.Join(*dir, "metricgate.yml")
	if _, err := pgcluster.StopDir(ctx, filepath.Join(abs, "cluster")); err != nil { // a previous start: restart on a fresh port
		return e.fail(ExitProblems, "sample", "%v", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return e.fail(ExitProblems, "sample", "%v", err)
	}
	fmt.Fprintf(e.stderr, "sample: starting PostgreSQL in %s\n", *dir)
	cl, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(abs, "cluster")})
	if err != nil {
		return e.fail(ExitProblems, "sample", "%v", err)
	}
	fresh, err := loadSample(ctx, e, cl, *scale)
	if err != nil {
		_ = cl.Stop(context.WithoutCancel(ctx))
		return e.fail(ExitProblems, "sample", "%v", err)
	}
	cl.Detach()
	config := fmt.Sprintf(sampleConfig, *scale, cl.Port(), cl.Port(), filepath.Join(abs, "warehouse.duckdb"))
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return e.fail(ExitProblems, "sample", "write %s: %v", configPath, err)
	}
	what := "the GitLab-shaped data it already held"
	if fresh {
		what = fmt.Sprintf("GitLab-shaped fake data (scale %d)", *scale)
	}
	bin := os.Args[0]
	fmt.Fprintf(e.stdout, `sample database running: %s on 127.0.0.1:%d (database gitlab)
configuration: %s

plan a query (columns, cost, how many rows and cells would be suppressed; never rows):
  %[4]s plan --config %[3]s mr_time_to_merge
run it into the sample warehouse and look at what was loaded:
  %[4]s run --config %[3]s --query mr_time_to_merge
  %[4]s show --config %[3]s mr_time_to_merge
stop it (the data stays for the next start):
  %[4]s sample --stop
`, what, cl.Port(), configPath, bin)
	return ExitOK
}

// loadSample creates the gitlab database with fake data unless it holds
// some, and the history database; it reports whether it loaded data.
func loadSample(ctx context.Context, e *env, cl *pgcluster.Cluster, scale int) (bool, error) {
	conn, err := pgx.Connect(ctx, cl.DSN("postgres"))
	if err != nil {
		return false, fmt.Errorf("connect to the sample cluster: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	exists := func(name string) (bool, error) {
		var ok bool
		err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
		return ok, err
	}
	if ok, err := exists("metricgate"); err != nil {
		return false, err
	} else if !ok {
		if _, err := conn.Exec(ctx, "CREATE DATABASE metricgate"); err != nil {
			return false, fmt.Errorf("create the history database: %w", err)
		}
	}
	ok, err := exists("gitlab")
	if err != nil {
		return false, err
	}
	if ok {
		return false, nil
	}
	// Load into a database of another name and rename it last, so that a
	// load cut short is never taken for a sample.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS gitlab_loading"); err != nil {
		return false, err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE gitlab_loading"); err != nil {
		return false, fmt.Errorf("create the sample database: %w", err)
	}
	fmt.Fprintf(e.stderr, "sample: loading GitLab-shaped data, scale %d\n", scale)
	start := time.Now()
	lc, err := pgx.Connect(ctx, cl.DSN("gitlab_loading"))
	if err != nil {
		return false, err
	}
	stats, err := gitlabfake.Load(ctx, lc, gitlabfake.Options{Scale: scale})
	if err == nil {
		_, err = lc.Exec(ctx, "VACUUM ANALYZE")
	}
	err = errors.Join(err, lc.Close(context.WithoutCancel(ctx)))
	if err != nil {
		return false, fmt.Errorf("load the sample data: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE gitlab_loading RENAME TO gitlab"); err != nil {
		return false, err
	}
	fmt.Fprintf(e.stderr, "sample: loaded %d rows in %s\n", stats.Total(), time.Since(start).Round(time.Millisecond))
	return true, nil
}
