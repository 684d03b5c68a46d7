//go:build no_duckdb

package cli

import (
	"context"
	"errors"
)

func openDuckDB(context.Context, string) (warehouseWriter, error) {
	return nil, errors.New("this binary was built without DuckDB (build tag no_duckdb)")
}
