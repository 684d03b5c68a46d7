package cli

import (
	"context"
	"fmt"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/history"
)

const (
	loadArgs    = "[--config FILE] [--schema NAME] [--force] [--verbose]"
	loadSummary = "load the newest complete dump into the warehouse: a full dump swaps every table in, increments are applied in order on what the warehouse holds, each in one transaction with its entry in the warehouse's ledger (warehouse side: needs only dump.storage_url and warehouse.url); " +
		"with results.storage_url, also the query results run wrote there that the warehouse's ledger does not hold"
)

func cmdLoad(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "load", loadArgs, loadSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	schema := fl.String("schema", "gitlab_public", "warehouse `schema` the dump's tables go to (it belongs to the dump)")
	force := fl.Bool("force", false, "load the newest complete dump even if it is already loaded (from the full dump its increments start at)")
	verbose := fl.Bool("verbose", false, "log every step on stderr, not only warnings and errors")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if fl.NArg() > 0 {
		return e.fail(ExitUsage, "load", "unexpected argument %q", fl.Arg(0))
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "load", "%v", err)
	}
	if cfg.Dump.StorageURL == "" && cfg.Results.StorageURL == "" {
		return e.fail(ExitUsage, "load", "dump.storage_url is not set (METRICGATE_DUMP_STORAGE_URL), nor results.storage_url (METRICGATE_RESULTS_STORAGE_URL)")
	}
	wh, err := openWarehouse(ctx, cfg.Warehouse.URL.Reveal())
	if err != nil {
		return e.fail(ExitUsage, "load", "%v", err)
	}
	defer func() { _ = wh.Close() }()
	// The warehouse's ledger decides what to load. The history database,
	// on the production side, is not needed: when history.url is set each
	// load is copied there for the status API, and a history that is down
	// or not migrated costs a warning only.
	var rec dump.LoadRecorder
	if cfg.History.URL != "" {
		store, err := openHistory(ctx, cfg.History.URL.Reveal())
		if err != nil {
			fmt.Fprintf(e.stderr, "metricgate load: warning: %v: the load is not copied to the history (the warehouse's ledger records it)\n", err)
		} else {
			defer func() { _ = store.Close() }()
			rec = store
		}
	}
	code := ExitOK
	if cfg.Dump.StorageURL != "" {
		if _, err := runLoad(ctx, e, cfg.Dump.StorageURL, dump.LoadConfig{Schema: *schema, Force: *force, Tool: "metricgate " + Version()}, wh, rec, *verbose); err != nil {
			code = e.fail(ExitProblems, "load", "%v", err)
		}
	}
	// Query results written to storage by run (results.storage_url).
	if cfg.Results.StorageURL != "" {
		if err := loadResults(ctx, e, cfg, wh, *verbose); err != nil {
			code = e.fail(failCode(err), "load", "%v", err)
		}
	}
	return code
}

// runLoad loads the newest complete dump from storageURL into wh and
// prints what it did. store may be nil: what the warehouse holds is in its
// ledger.
func runLoad(ctx context.Context, e *env, storageURL string, cfg dump.LoadConfig, wh warehouseWriter, store dump.LoadRecorder, verbose bool) (*dump.LoadResult, error) {
	dwh, ok := wh.(dump.Warehouse)
	if !ok {
		return nil, fmt.Errorf("this warehouse cannot load dumps")
	}
	bucket, err := dump.OpenBucket(ctx, storageURL)
	if err != nil {
		return nil, err
	}
	defer func() { _ = bucket.Close() }()
	dwh = &loadProgress{Warehouse: dwh, w: e.stderr, tick: loadTick}
	res, err := dump.NewLoader(cfg, bucket, dwh, store, commandLogger(e, verbose)).Load(ctx)
	if err != nil {
		return res, err
	}
	m := res.Manifest
	switch res.Status {
	case history.DumpSkipped:
		fmt.Fprintf(e.stdout, "dump %s (snapshot %s) is already loaded (the warehouse's ledger, %s.%s): nothing to do\n",
			m.Location, m.SnapshotTime.Format("2006-01-02 15:04:05Z07:00"), cfgSchema(cfg), dump.LedgerTable)
	default:
		if res.Held == "" {
			fmt.Fprintf(e.stdout, "the warehouse holds no dump (no ledger in schema %s): loading the newest full dump and the increments on it\n", cfgSchema(cfg))
		}
		for _, l := range res.Loaded {
			what := "full dump"
			if l.Incremental() {
				what = "increment on " + l.Base
			}
			fmt.Fprintf(e.stdout, "loaded %s (%s, snapshot %s)\n", l.Location, what, l.SnapshotTime.Format("2006-01-02 15:04:05Z07:00"))
		}
		fmt.Fprintf(e.stdout, "loaded dump %s (snapshot %s): %d tables, %d rows into schema %s in %s\n",
			m.Location, m.SnapshotTime.Format("2006-01-02 15:04:05Z07:00"), res.Tables, res.Rows, cfgSchema(cfg), res.Duration.Round(1e6))
	}
	for _, loc := range res.Incomplete {
		fmt.Fprintf(e.stderr, "metricgate load: %s has no manifest.json (incomplete, failed or still running): not loaded\n", loc)
	}
	return res, nil
}

func cfgSchema(c dump.LoadConfig) string {
	if c.Schema == "" {
		return "gitlab_public"
	}
	return c.Schema
}
