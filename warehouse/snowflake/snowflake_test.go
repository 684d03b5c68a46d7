//go:build !no_snowflake

package snowflake

import (
	"context"
	"os"
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

var _ interface {
	Write(context.Context, warehouse.Load, warehouse.Rows) (int64, error)
} = (*Writer)(nil)

var _ warehousetest.Writer = (*Writer)(nil)

// envDSN names a Snowflake account for the integration tests:
// snowflake://user:password@account/database/schema?warehouse=…; each test
// works in a schema of its own, created next to the DSN's and dropped.
const envDSN = "SNOWFLAKE_TEST_DSN"

func openWriter(ctx context.Context, dsn string) (warehousetest.Writer, error) { return Open(ctx, dsn) }

func TestMain(m *testing.M) {
	warehousetest.RunCrashChild(openWriter)
	os.Exit(m.Run())
}

func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://alice:s3cretpw@acct/db/schema",
		"snowflake://alice:s3cretpw@acct/db",
		"snowflake://alice:s3cretpw@acct/db/schema?loginTimeout=notanumber",
		"snowflake://alice:s3cretpw@/db/schema",
	} {
		_, err := Open(t.Context(), dsn)
		if err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		t.Logf("Open(%q): %v", dsn, err)
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// testSchema creates a fresh schema next to the one dsn names and returns
// a DSN for it; the schema is dropped when t ends.
func testSchema(t *testing.T, dsn string) string {
	t.Helper()
	base, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	schema := "MGTEST_" + strings.ToUpper(randomSuffix())
	if _, err := base.db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := base.db.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	path, query, _ := strings.Cut(dsn, "?")
	i := strings.LastIndex(path, "/")
	out := path[:i+1] + schema
	if query != "" {
		out += "?" + query
	}
	return out
}

// TestIntegration runs the conformance, crash, dump, ledger and
// source-upgrade suites on the account SNOWFLAKE_TEST_DSN names.
func TestIntegration(t *testing.T) {
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skip(envDSN + " is not set: no Snowflake account to test against")
	}
	t.Run("Conformance", func(t *testing.T) {
		warehousetest.Exercise(t.Context(), t, func(t *testing.T) warehousetest.Writer {
			w, err := Open(t.Context(), testSchema(t, dsn))
			if err != nil {
				t.Fatal(err)
			}
			return w
		})
	})
	t.Run("Crash", func(t *testing.T) {
		warehousetest.ExerciseCrash(t, openWriter, testSchema(t, dsn))
	})
	// The dump suites load into schemas of fixed names in the DSN's
	// database (dump_suite, ledger_dump, ledger_other): each runs on a
	// writer of its own and drops them when it ends.
	dumpWarehouse := func(t *testing.T, schemas ...string) *Writer {
		w, err := Open(t.Context(), testSchema(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, s := range schemas {
				for _, name := range []string{s, s + "_staging"} {
					if _, err := w.db.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+quote(name)+" CASCADE"); err != nil {
						t.Errorf("drop schema %s: %v", name, err)
					}
				}
			}
			_ = w.Close()
		})
		return w
	}
	t.Run("Dump", func(t *testing.T) {
		warehousetest.ExerciseDump(t.Context(), t, func(t *testing.T) (warehousetest.DumpWarehouse, warehousetest.QueryFunc) {
			w := dumpWarehouse(t, "dump_suite")
			return w, warehousetest.QueryDB(w.db)
		})
	})
	t.Run("Ledger", func(t *testing.T) {
		warehousetest.ExerciseLedger(t.Context(), t, func(t *testing.T) warehousetest.DumpWarehouse {
			return dumpWarehouse(t, "ledger_dump", "ledger_other")
		})
	})
	t.Run("SourceUpgrade", func(t *testing.T) {
		w, err := Open(t.Context(), testSchema(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		warehousetest.ExerciseSourceUpgrade(t.Context(), t, w, func(ctx context.Context, table, column string) error {
			_, err := w.db.ExecContext(ctx, "ALTER TABLE "+quote(table)+" DROP COLUMN "+quote(column))
			return err
		})
	})
}
