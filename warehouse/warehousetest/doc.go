// Package warehousetest is the conformance suite every warehouse writer
// passes, and the helpers to compare warehouse tables.
//
// A driver's test builds its writer and hands it over, as river's
// riverdrivertest does:
//
//	func TestConformance(t *testing.T) {
//		warehousetest.Exercise(t.Context(), t, func(t *testing.T) warehousetest.Writer {
//			w, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return w
//		})
//	}
//
// [Exercise] covers every kind of column and its NULLs, empty results, the
// provenance columns, idempotent appends per snapshot date, atomic
// replaces, several sources loading one table side by side (append and
// replace per source, rows of no source, concurrent loads of sources), schema evolution (added, removed and incompatible columns),
// a source failing midway, cancellation, concurrent loads, invalid loads
// and a 200k-row load that must stream (the live Go heap is sampled while
// the writer pulls rows; a writer holding the result in memory fails).
//
// [ExerciseDump] checks what the dump loader asks of a warehouse, on real
// gzip CSV files held in memory: LoadDump (every table created with its
// rows, the next dump replacing them and dropping the tables it lacks, a
// corrupt file or a wrong count refused with the previous tables kept)
// and ApplyIncrement (upserts and deleted keys merged, a full table
// replaced, other tables left alone, a wrong count changing nothing).
// [ExerciseLedger] checks the ledger those loads write. A driver passes
// its warehouse and a [QueryFunc] to read the loaded tables back
// ([QueryDB] for a database/sql handle). The steps are [DumpSteps], data
// a driver without a live warehouse to test against (Snowflake without
// SNOWFLAKE_TEST_DSN) renders its statements for.
//
// [ExerciseSourceUpgrade] checks that a table loaded before the _source
// column existed upgrades without duplicates; the driver passes a function
// that drops a column.
//
// [ExerciseCrash] kills a process in the middle of a load with SIGKILL and
// checks the previous state survives; the driver's TestMain calls
// [RunCrashChild] so the test binary can play that process.
//
// [Diff] and [Equal] compare tables ignoring row order and column order,
// by value: numbers exactly or, when a float is involved, within
// [FloatTolerance]; times by instant; JSON as documents.
package warehousetest
