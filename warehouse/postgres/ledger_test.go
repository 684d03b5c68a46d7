package postgres_test

import (
	"context"
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

// TestDump runs the dump suite: LoadDump and ApplyIncrement on real files.
func TestDump(t *testing.T) {
	t.Parallel()
	warehousetest.ExerciseDump(t.Context(), t, func(t *testing.T) (warehousetest.DumpWarehouse, warehousetest.QueryFunc) {
		dsn := pgtest.New(t)
		conn := pgtest.Connect(t, dsn)
		return open(t, dsn), func(ctx context.Context, query string) ([][]any, error) {
			rows, err := conn.Query(ctx, query)
			if err != nil {
				return nil, err
			}
			var out [][]any
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					rows.Close()
					return nil, err
				}
				out = append(out, vals)
			}
			return out, rows.Err()
		}
	})
}
