package dump_test

import (
	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/warehouse/duckdb"
	"gitlab.com/metricgate/metricgate/warehouse/postgres"
	"gitlab.com/metricgate/metricgate/warehouse/snowflake"
)

// Every driver is a warehouse the loader can load into: the drivers
// import only the warehouse package, so the check is here.
var (
	_ dump.Warehouse = (*duckdb.Writer)(nil)
	_ dump.Warehouse = (*postgres.Writer)(nil)
	_ dump.Warehouse = (*snowflake.Writer)(nil)
)
