package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
)

// warehouseWriter is what the commands need of a warehouse writer.
type warehouseWriter interface {
	runner.Writer
	Read(ctx context.Context, table string) (*warehouse.Table, error)
	Close() error
}

// openWarehouse opens the writer warehouse.url names by its scheme. The
// error never quotes the URL, which may hold a password.
func openWarehouse(ctx context.Context, url string) (warehouseWriter, error) {
	scheme, _, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("warehouse.url: not a URL: want duckdb:///path/file.duckdb, postgres://… or snowflake://…")
	}
	var (
		w   warehouseWriter
		err error
	)
	switch scheme {
	case "duckdb":
		w, err = openDuckDB(ctx, url)
	case "postgres", "postgresql":
		w, err = postgres.Open(ctx, url)
		err = endpoint("warehouse", "warehouse.url", url, err)
	case "snowflake":
		w, err = openSnowflake(ctx, url)
	default:
		return nil, fmt.Errorf("warehouse.url: unknown scheme %q: want duckdb, postgres or snowflake", scheme)
	}
	var ee *endpointError
	switch {
	case errors.As(err, &ee):
		return nil, err // names the warehouse already
	case err != nil:
		return nil, fmt.Errorf("open the warehouse: %w", err)
	}
	return w, nil
}
