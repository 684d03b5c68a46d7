//go:build !no_duckdb

package cli

import (
	"context"

	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
)

func openDuckDB(ctx context.Context, url string) (warehouseWriter, error) {
	return duckdb.OpenURL(ctx, url)
}
