//go:build no_snowflake

package cli

import (
	"context"
	"errors"
)

func openSnowflake(context.Context, string) (warehouseWriter, error) {
	return nil, errors.New("this binary was built without Snowflake (build tag no_snowflake)")
}
