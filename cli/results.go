package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/results"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// storageSchemes are the object storage URL schemes (gocloud.dev/blob).
var storageSchemes = []string{"file", "s3", "gs"}

// openResultWriter opens what a run writes its results to: object
// storage when results.storage_url is set (the warehouse is then neither
// opened nor needed: production holds no warehouse credentials), else the
// warehouse warehouse.url names.
func openResultWriter(ctx context.Context, cfg *Config) (warehouseWriter, error) {
	if cfg.Results.StorageURL == "" {
		return openWarehouse(ctx, cfg.Warehouse.URL.Reveal())
	}
	b, err := openResultsBucket(ctx, cfg.Results.StorageURL)
	if err != nil {
		return nil, err
	}
	return &storageWriter{Writer: results.NewWriter(results.Config{Tool: "metricgate " + Version()}, b), bucket: b}, nil
}

// openResultsBucket opens results.storage_url, naming the setting when
// its scheme is not one of storage's.
func openResultsBucket(ctx context.Context, url string) (*blob.Bucket, error) {
	scheme, _, ok := strings.Cut(url, "://")
	if !ok || !slices.Contains(storageSchemes, scheme) {
		return nil, &configError{fmt.Sprintf("results.storage_url: want %s://…", strings.Join(storageSchemes, "://…, "))}
	}
	return results.OpenBucket(ctx, url)
}

// noteResultStorage says, after a run into storage, where the results
// went and what brings them into the warehouse.
func noteResultStorage(w io.Writer, cfg *Config) {
	if cfg.Results.StorageURL == "" {
		return
	}
	u, err := url.Parse(cfg.Results.StorageURL)
	if err != nil {
		return // the storage opened: unreachable
	}
	where := strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/") + "/" + results.DefaultPrefix // no query: it may hold credentials
	fmt.Fprintf(w, "results written to %s (results.storage_url): metricgate load imports them into the warehouse\n", where)
}

// storageWriter is the results writer as the commands hold a warehouse
// writer: it writes, and closes its bucket; the warehouse it feeds is
// read on the warehouse side.
type storageWriter struct {
	*results.Writer
	bucket *blob.Bucket
}

var _ warehouseWriter = (*storageWriter)(nil)

func (s *storageWriter) Read(context.Context, string) (*warehouse.Table, error) {
	return nil, errors.New("results go to object storage (results.storage_url): read them in the warehouse, after metricgate load")
}

func (s *storageWriter) Close() error { return s.bucket.Close() }

// loadResults imports the results in results.storage_url that wh's
// ledger does not hold, and prints what it did.
func loadResults(ctx context.Context, e *env, cfg *Config, wh warehouseWriter, verbose bool) error {
	rw, ok := wh.(results.Warehouse)
	if !ok {
		return errors.New("this warehouse cannot load results from storage")
	}
	b, err := openResultsBucket(ctx, cfg.Results.StorageURL)
	if err != nil {
		return err
	}
	defer func() { _ = b.Close() }() // read-only
	rcfg := results.Config{Tool: "metricgate " + Version()}
	res, err := results.NewLoader(rcfg, b, rw, commandLogger(e, verbose)).Load(ctx)
	for _, m := range res.Loaded {
		fmt.Fprintf(e.stdout, "loaded result %s (%s, %s, snapshot %s, run %d): %d rows\n", m.Location, m.Table, m.Mode,
			m.Provenance.SnapshotDate, m.Provenance.RunID, m.File.Rows)
	}
	for _, loc := range res.Superseded {
		fmt.Fprintf(e.stderr, "metricgate load: result %s not loaded: the warehouse holds a newer result of its table and source\n", loc)
	}
	for _, loc := range res.Incomplete {
		fmt.Fprintf(e.stderr, "metricgate load: result %s has no %s (being written, failed or killed): %s not loaded\n",
			loc, results.ManifestName, loc+results.DataName)
	}
	switch {
	case len(res.Loaded) > 0:
		fmt.Fprintf(e.stdout, "loaded %d results, %d rows, in %s (%d already loaded, the warehouse's ledger %s.%s)\n",
			len(res.Loaded), res.Rows, res.Duration.Round(1e6), res.Held, "metricgate_results", warehouse.LedgerTable)
	case err == nil:
		fmt.Fprintf(e.stdout, "no new result in storage: %d already loaded (the warehouse's ledger %s.%s)\n",
			res.Held, "metricgate_results", warehouse.LedgerTable)
	}
	return err
}
