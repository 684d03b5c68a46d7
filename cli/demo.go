package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgcluster"
	"gitlab.com/metricgate/metricgate/queries"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
)

const (
	demoArgs    = "[--dir DIR] [--scale N] [--queries DIR] [--warehouse URL] [--dump FILE]"
	demoSummary = "start a throwaway GitLab-shaped database and run every query on it into an embedded DuckDB warehouse"
)

func cmdDemo(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "demo", demoArgs, demoSummary)
	dir := fl.String("dir", ".demo", "`directory` for the throwaway PostgreSQL cluster (removed afterwards)")
	scale := fl.Int("scale", 1, "size of the generated GitLab data (1 loads in seconds)")
	queryDir := fl.String("queries", "", "query `directory` (default: queries/ when present, else the built-in examples)")
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	warehouseURL := fl.String("warehouse", "", "warehouse `URL` (default duckdb://DIR/warehouse.duckdb, kept after the demo)")
	dumpConfig := fl.String("dump", "", "dump definition `file` to dump and load after the queries (default dump.config, skipped when absent)")
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
	if *dumpConfig != "" {
		if _, err := os.Stat(*dumpConfig); err != nil {
			return e.fail(ExitUsage, "demo", "--dump %s: %v", *dumpConfig, err)
		}
		cfg.Dump.Config = *dumpConfig
	}
	if err := runDemo(ctx, e, *dir, *scale, fsys, where, *warehouseURL, cfg); err != nil {
		if errors.Is(err, context.Canceled) {
			return e.fail(ExitProblems, "demo", "interrupted")
		}
		return e.fail(ExitProblems, "demo", "%v", err)
	}
	return ExitOK
}

// demoProblems prints every problem of the invalid query files (the
// header's and the guard's, as validate does) and says each is left out of
// the run. prefix: the problems' paths are relative to the directory where.
func demoProblems(e *env, cat *catalog.Catalog, problems catalog.Problems, g *guard.Guard, where string, prefix bool) {
	path := func(p string) string {
		if prefix {
			return filepath.Join(where, p)
		}
		return p
	}
	counts := map[string]int{}
	for _, p := range problems {
		counts[p.Path]++
		p.Path = path(p.Path)
		fmt.Fprintln(e.stderr, p.String())
	}
	if cat == nil {
		return
	}
	for _, q := range cat.Invalid {
		_, vs := g.CheckQuery(q) // the guard's problems too, so that one pass shows them all
		for _, v := range vs {
			fmt.Fprintln(e.stderr, catalog.Problem{Path: path(q.Path), Line: v.Line, Col: v.Col, Rule: v.Rule, Message: v.Message}.String())
		}
		counts[q.Path] += len(vs)
	}
	for _, q := range cat.Invalid {
		n := counts[q.Path]
		fmt.Fprintf(e.stderr, "demo: %s is left out of the run: %d %s above (metricgate validate %s)\n",
			path(q.Path), n, plural(n, "problem", "problems"), path(q.Path))
	}
}

// invokedAs is how to run this binary again in a hint: as it was invoked
// when that was by a path (make demo runs bin/metricgate), else
// "metricgate".
func invokedAs() string {
	if len(os.Args) > 0 && filepath.Base(os.Args[0]) == "metricgate" && strings.ContainsRune(os.Args[0], filepath.Separator) {
		return os.Args[0]
	}
	return "metricgate"
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

func runDemo(ctx context.Context, e *env, dir string, scale int, fsys fs.FS, where, warehouseURL string, cfg *Config) (err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(e.stderr, "demo: "+format+"\n", args...) }
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pgDir := filepath.Join(absDir, "postgres")
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
	cl, err := pgcluster.Start(ctx, pgcluster.Options{Dir: pgDir})
	if err != nil {
		// A checkout under a private home directory is out of reach of the
		// postgres user: a temporary directory is not.
		logf("%v; using a temporary directory instead", err)
		if cl, err = pgcluster.Start(ctx, pgcluster.Options{}); err != nil {
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
	g, err := newGuard(cfg)
	if err != nil {
		return err
	}
	demoProblems(e, cat, problems, g, where, fsys != queries.FS)

	if err := cl.CreateDatabase(ctx, "metricgate_history"); err != nil {
		return err
	}
	store, err := history.Open(ctx, cl.DSN("metricgate_history"))
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	logf("migrated the history database")
	whURL := cmp.Or(warehouseURL, "duckdb://"+filepath.Join(absDir, "warehouse.duckdb"))
	wh, err := openWarehouse(ctx, whURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, wh.Close()) }()
	rcfg := cfg.runnerConfig()
	rcfg.Sources = map[string]runner.Source{}
	for name, s := range cfg.Sources {
		rcfg.Sources[name] = runner.Source{URL: cl.DSN("gitlab"), Role: s.Role, Cell: s.Cell}
	}
	rcfg.Approval = "none"
	runLog := newLogger(e.stderr, slog.LevelWarn)
	defer flushLog(runLog)
	r, err := runner.New(rcfg, runner.Deps{Guard: g, Writer: wh, Recorder: store, Approver: review.None{},
		Logger: runLog})
	if err != nil {
		return err
	}
	logf("running %d queries into %s", len(cat.Queries), redactURL(whURL))
	res, err := r.Run(ctx, runner.Options{Trigger: "demo", Queries: cat.Queries})
	if err != nil {
		return err
	}
	writeRunTable(e.stdout, res)
	fmt.Fprintf(e.stdout, "\n%d queries ran against %d generated rows; rows below min_group_size were suppressed and never written.\n",
		len(res.Queries), stats.Total())
	if err := demoDump(ctx, e, cfg, cl.DSN("gitlab"), absDir, store, wh); err != nil {
		return err
	}
	if strings.HasPrefix(whURL, "duckdb://") {
		path := strings.TrimPrefix(whURL, "duckdb://")
		rel := path
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(r, "..") {
				rel = r
			}
		}
		fmt.Fprintf(e.stdout, "\nThe results are in %s, one table per query:\n", rel)
		fmt.Fprintf(e.stdout, "  %s show --warehouse duckdb://%s %s\n", invokedAs(), rel, firstLoaded(res))
		fmt.Fprintf(e.stdout, "  duckdb %s -c 'SELECT * FROM %s'   # with the DuckDB CLI\n", rel, firstLoaded(res))
	}
	if res.Status != history.RunSucceeded {
		return fmt.Errorf("run %s: %d of %d queries failed", res.Status, countStatus(res, history.QueryFailed), len(res.Queries))
	}
	return nil
}

// firstLoaded names a table the run loaded, for the hints.
func firstLoaded(res *runner.Result) string {
	for _, q := range res.Queries {
		if q.Status == history.QuerySucceeded {
			return q.Target
		}
	}
	return "TABLE"
}

func countStatus(res *runner.Result, s history.QueryStatus) (n int) {
	for _, q := range res.Queries {
		if q.Status == s {
			n++
		}
	}
	return n
}

// demoPseudonymKey keys the demo's pseudonyms. It is a fixed, published
// value for the throwaway demo data only: never use it for a real dump
// (set dump.pseudonym_key from a secret store).
const demoPseudonymKey = "metricgate DEMO pseudonym key - not a secret"

// demoDump dumps the demo database's public projects with dump.config (when
// it exists) under DIR/dumps and loads the dump into the warehouse.
func demoDump(ctx context.Context, e *env, cfg *Config, sourceURL, dir string, store *history.Store, wh warehouseWriter) error {
	logf := func(format string, args ...any) { fmt.Fprintf(e.stderr, "demo: "+format+"\n", args...) }
	if _, err := os.Stat(cfg.Dump.Config); err != nil {
		logf("no %s here: skipping dump and load", cfg.Dump.Config)
		return nil
	}
	def, err := readDumpDefinition(cfg)
	if err != nil {
		return err
	}
	// The demo's history starts afresh, and so do its dumps.
	if err := os.RemoveAll(filepath.Join(dir, "dumps")); err != nil {
		return err
	}
	storage := "file://" + filepath.ToSlash(filepath.Join(dir, "dumps")) + "?create_dir=true"
	bucket, err := dump.OpenBucket(ctx, storage)
	if err != nil {
		return err
	}
	defer func() { _ = bucket.Close() }()
	dumpLog := newLogger(e.stderr, slog.LevelWarn)
	defer flushLog(dumpLog)
	logf("dumping the public projects of %s (%s, %d tables) to %s with the demo pseudonym key", def.Group, cfg.Dump.Config, len(def.Tables), filepath.Join(dir, "dumps"))
	m, err := runDump(ctx, e, dump.Config{SourceURL: sourceURL, Keep: cfg.Dump.Keep, PseudonymKey: []byte(demoPseudonymKey),
		Tool: "metricgate " + Version()}, dump.Deps{Bucket: bucket, Recorder: store,
		Logger: dumpLog}, def, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	writeDumpTable(e.stdout, m)
	logf("loading the newest complete dump into the warehouse")
	if _, err := runLoad(ctx, e, storage, dump.LoadConfig{}, wh, store, false); err != nil {
		return err
	}
	return nil
}
