//go:build !no_duckdb

package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

var _ interface {
	Write(context.Context, warehouse.Load, warehouse.Rows) (int64, error)
} = (*Writer)(nil)

var _ warehousetest.Writer = (*Writer)(nil)

func openWriter(ctx context.Context, dsn string) (warehousetest.Writer, error) {
	return OpenURL(ctx, dsn)
}

func TestMain(m *testing.M) {
	warehousetest.RunCrashChild(openWriter)
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	warehousetest.Exercise(t.Context(), t, func(t *testing.T) warehousetest.Writer {
		w, err := Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
}

func TestCrash(t *testing.T) {
	warehousetest.ExerciseCrash(t, openWriter, "duckdb://"+filepath.Join(t.TempDir(), "crash.duckdb"))
}
