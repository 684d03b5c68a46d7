//go:build !no_snowflake

package cli

import (
	"context"

	"gitlab.com/metricgate/metricgate/warehouse/snowflake"
)

func openSnowflake(ctx context.Context, url string) (warehouseWriter, error) {
	return snowflake.Open(ctx, url)
}
