package postgres_test

import (
	"testing"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

func TestLedger(t *testing.T) {
	t.Parallel()
	warehousetest.ExerciseLedger(t.Context(), t, func(t *testing.T) warehousetest.DumpWarehouse {
		return open(t, pgtest.New(t))
	})
}
