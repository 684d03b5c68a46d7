package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/queries"
)

const demoSummary = "start a throwaway GitLab-shaped database, validate the queries and run each one on it"

// demoResult is one query's outcome in the demo.
type demoResult struct {
	name                string
	rows, suppressed    int64
	duration            time.Duration
	err                 error
	columns, aggregates int
}

func cmdDemo(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "demo", "[--dir DIR] [--scale N] [--queries DIR]", demoSummary)
	dir := fl.String("dir", ".demo", "`directory` for the throwaway PostgreSQL cluster (removed afterwards)")
	scale := fl.Int("scale", 1, "size of the generated GitLab data (1 loads in seconds)")
	queryDir := fl.String("queries", "", "query `directory` (default: queries/ when present, else the built-in examples)")
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if *scale < 1 {
		return e.fail(ExitUsage, "demo", "--scale must be at least 1")
	}
	cfg, err := loadConfigOffline(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "demo", "%v", err)
	}
	if *queryDir != "" {
		if info, err := os.Stat(*queryDir); err != nil || !info.IsDir() {
			return e.fail(ExitUsage, "demo", "--queries %s: not a directory", *queryDir)
		}
	}
	fsys, where := demoQueries(*queryDir, cfg.Queries.Dir)
	if err := runDemo(ctx, e, *dir, *scale, fsys, where, cfg); err != nil {
		if errors.Is(err, context.Canceled) {
			return e.fail(ExitProblems, "demo", "interrupted")
		}
		return e.fail(ExitProblems, "demo", "%v", err)
	}
	return ExitOK
}

// demoQueries picks the query directory: the flag, queries.dir when it
// exists, or the examples built into the binary.
func demoQueries(flagDir, cfgDir string) (fs.FS, string) {
	for _, d := range []string{flagDir, cfgDir} {
		if d == "" {
			continue
		}
		if info, err := os.Stat(d); err == nil && info.IsDir() {
			return os.DirFS(d), d
		}
	}
	return queries.FS, "the built-in examples"
}

func runDemo(ctx context.Context, e *env, dir string, scale int, fsys fs.FS, where string, cfg *Config) (err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(e.stderr, "demo: "+format+"\n", args...) }
	pgDir, err := filepath.Abs(filepath.Join(dir, "postgres"))
	if err != nil {
		return err
	}
	// A previous demo that was killed may have left its cluster behind.
	if err := os.RemoveAll(pgDir); err != nil {
		return fmt.Errorf("remove old demo cluster: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(pgDir), 0o755); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Dir(pgDir), 0o755); err != nil { // the postgres user must reach it
		return err
	}
	logf("starting a throwaway PostgreSQL cluster in %s", pgDir)
	cl, err := pgtest.Start(ctx, pgtest.Options{Dir: pgDir})
	if err != nil {
		// A checkout under a private home directory is out of reach of the
		// postgres user: a temporary directory is not.
		logf("%v; using a temporary directory instead", err)
		if cl, err = pgtest.Start(ctx, pgtest.Options{}); err != nil {
			return err
		}
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, cl.Stop(stopCtx), os.RemoveAll(pgDir))
		logf("stopped and removed the cluster")
	}()
	if err := cl.CreateDatabase(ctx, "gitlab"); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, cl.DSN("gitlab"))
	if err != nil {
		return fmt.Errorf("connect to the demo database: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	logf("loading GitLab-shaped data at scale %d", scale)
	stats, err := gitlabfake.Load(ctx, conn, gitlabfake.Options{Scale: scale})
	if err != nil {
		return err
	}
	logf("loaded %d rows in %d tables in %s", stats.Total(), len(stats.Rows), stats.Duration.Round(time.Millisecond))

	logf("validating %s", where)
	cat, err := catalog.Load(fsys, cfg.catalogConfig())
	var problems catalog.Problems
	if err != nil && !errors.As(err, &problems) {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(e.stderr, p.String())
	}
	g, err := guard.New(guard.Config{RedColumns: cfg.Guard.RedColumns})
	if err != nil {
		return err
	}
	var results []demoResult
	for _, q := range cat.Queries {
		an, vs := g.Check(q.Text, q.GroupSize)
		if len(vs) > 0 {
			for _, v := range vs {
				fmt.Fprintf(e.stderr, "%s:%s\n", q.Path, v)
			}
			results = append(results, demoResult{name: q.Name, err: errors.New("refused by the guard")})
			continue
		}
		results = append(results, demoRun(ctx, conn, q, an))
	}
	failed := writeDemoTable(e.stdout, results)
	fmt.Fprintf(e.stdout, "\n%d queries ran against %d generated rows; rows below min_group_size were counted as suppressed and never shown.\n",
		len(results), stats.Total())
	if failed > 0 {
		return fmt.Errorf("%d of %d queries failed", failed, len(results))
	}
	return nil
}

// demoRun executes one query the way the runner will: read-only,
// repeatable read, with its timeout, the runtime type rule and the
// group-size filter. It reads the rows and counts them; it shows none.
func demoRun(ctx context.Context, conn *pgx.Conn, q *catalog.Query, an *guard.Analysis) (res demoResult) {
	res.name = q.Name
	start := time.Now()
	defer func() { res.duration = time.Since(start) }()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		res.err = err
		return res
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only; nothing to keep
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", q.Timeout.Milliseconds())); err != nil {
		res.err = err
		return res
	}
	rows, err := tx.Query(ctx, q.Text)
	if err != nil {
		res.err = err
		return res
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	types := make([]string, len(fields))
	filter := &guard.GroupFilter{Column: -1, Min: int64(q.MinGroupSize)}
	for i, f := range fields {
		types[i] = fmt.Sprint(f.DataTypeOID)
		if t, ok := conn.TypeMap().TypeForOID(f.DataTypeOID); ok {
			types[i] = t.Name
		}
		if f.Name == q.GroupSize {
			filter.Column = i
		}
	}
	if err := guard.CheckResultTypes(an, types); err != nil {
		res.err = err
		return res
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			res.err = err
			return res
		}
		if _, err := filter.Keep(vals); err != nil {
			res.err = err
			return res
		}
	}
	if err := rows.Err(); err != nil {
		res.err = err
		return res
	}
	res.rows, res.suppressed, res.columns = filter.Kept, filter.Dropped, len(fields)
	for _, c := range an.Columns {
		if c.Kind == guard.Aggregate {
			res.aggregates++
		}
	}
	return res
}

func writeDemoTable(w io.Writer, results []demoResult) (failed int) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "query\tcolumns\trows\tsuppressed\tduration\tstatus")
	for _, r := range results {
		status := "ok"
		if r.err != nil {
			status, failed = "failed: "+r.err.Error(), failed+1
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", r.name, r.columns, r.rows, r.suppressed,
			r.duration.Round(time.Millisecond), status)
	}
	_ = tw.Flush() // a broken terminal shows in the exit code of the next write
	return failed
}
