//go:build no_duckdb

package cli

import (
	"context"
	"errors"

	"gitlab.com/metricgate/metricgate/warehouse"
)

var errNoDuckDB = errors.New("this binary was built without DuckDB (build tag no_duckdb)")

func openDuckDB(context.Context, string) (warehouseWriter, error) { return nil, errNoDuckDB }

func readDuckDB(context.Context, string, string) (*warehouse.Table, []string, error) {
	return nil, nil, errNoDuckDB
}
