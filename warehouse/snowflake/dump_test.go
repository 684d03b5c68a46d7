//go:build !no_snowflake

package snowflake

import (
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

func TestLoadDumpSQL(t *testing.T) {
	tb := warehouse.DumpTable{Name: "namespaces", Rows: 3, Columns: []warehouse.Column{
		{Name: "id", Type: warehouse.Type{Kind: warehouse.KindInt}},
		{Name: "traversal_ids", Type: warehouse.Type{Kind: warehouse.KindInt, Array: true}},
		{Name: "created_at", Type: warehouse.Type{Kind: warehouse.KindTimestamp}},
		{Name: "closed_at", Type: warehouse.Type{Kind: warehouse.KindTimestampTZ}},
		{Name: "confidential", Type: warehouse.Type{Kind: warehouse.KindBool}},
		{Name: "author_id", Type: warehouse.Type{Kind: warehouse.KindText}},
	}}
	for _, c := range []struct{ got, want string }{
		{createDumpTableSQL("gitlab_public_staging", tb),
			`CREATE TABLE "gitlab_public_staging"."namespaces" ("id" NUMBER(38,0), "traversal_ids" ARRAY, "created_at" TIMESTAMP_NTZ, "closed_at" TIMESTAMP_TZ, "confidential" BOOLEAN, "author_id" VARCHAR)`},
		{putDumpSQL("/tmp/x/namespaces.1.csv.gz", "st", "namespaces"),
			`PUT 'file:///tmp/x/namespaces.1.csv.gz' @"st"/namespaces/ AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE`},
		{copyDumpSQL("gitlab_public_staging", "st", tb),
			`COPY INTO "gitlab_public_staging"."namespaces" ("id", "traversal_ids", "created_at", "closed_at", "confidential", "author_id") FROM (SELECT ` +
				`CAST($1 AS NUMBER(38,0)), CAST(PARSE_JSON($2) AS ARRAY), TO_TIMESTAMP_NTZ(REPLACE($3, ' ', 'T')), ` +
				`TO_TIMESTAMP_TZ(REPLACE($4, ' ', 'T') || ':00'), TO_BOOLEAN($5), $6 FROM @"st"/namespaces/) ` + dumpFileFormat +
				` ON_ERROR = ABORT_STATEMENT PURGE = TRUE`},
		{swapSchemaSQL("gitlab_public", "gitlab_public_staging"), `ALTER SCHEMA "gitlab_public" SWAP WITH "gitlab_public_staging"`},
		{createSchemaSQL("gitlab_public_staging", true), `CREATE OR REPLACE TRANSIENT SCHEMA "gitlab_public_staging"`},
		{createSchemaSQL("gitlab_public", false), `CREATE SCHEMA IF NOT EXISTS "gitlab_public"`},
	} {
		if c.got != c.want {
			t.Errorf("got\n%s\nwant\n%s", c.got, c.want)
		}
	}
}

// TestApplyIncrementSQL: an incremental table deletes the keys of its
// upserts and deletes and inserts the upserts; a full table in an
// increment replaces its rows; the deleted keys stage as one column.
func TestApplyIncrementSQL(t *testing.T) {
	tb := warehouse.DumpTable{Name: "notes", Mode: warehouse.DumpIncremental, Key: "id", Rows: 2, DeleteRows: 1, Columns: []warehouse.Column{
		{Name: "id", Type: warehouse.Type{Kind: warehouse.KindInt}},
		{Name: "note", Type: warehouse.Type{Kind: warehouse.KindText}},
	}}
	got := mergeDumpSQL("gitlab_public", "gitlab_public_staging", tb)
	want := []string{
		`DELETE FROM "gitlab_public"."notes" USING (SELECT "id" FROM "gitlab_public_staging"."notes" UNION SELECT "id" FROM "gitlab_public_staging"."notes__deletes") d WHERE "gitlab_public"."notes"."id" = d."id"`,
		`INSERT INTO "gitlab_public"."notes" ("id", "note") SELECT "id", "note" FROM "gitlab_public_staging"."notes"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("incremental merge:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	full := tb
	full.Mode = warehouse.DumpFull
	if got := mergeDumpSQL("gitlab_public", "gitlab_public_staging", full); len(got) != 2 || got[0] != `DELETE FROM "gitlab_public"."notes"` {
		t.Errorf("full table in an increment: %v", got)
	}
	d := tb.DeletedKeys()
	if d.Name != "notes__deletes" || len(d.Columns) != 1 || d.Columns[0].Name != "id" || d.Rows != 1 {
		t.Errorf("deletes table: %+v", d)
	}
	if got := createDumpTableSQL("gitlab_public_staging", d); got != `CREATE TABLE "gitlab_public_staging"."notes__deletes" ("id" NUMBER(38,0))` {
		t.Errorf("deletes staging table: %s", got)
	}
}

// TestLedgerSQL: a dump's ledger entry is written into the staging schema
// (a copy of the live ledger plus the entry) so that the swap brings the
// tables and the ledger in together; an increment's entry is the last
// statement of its transaction; values are escaped literals.
func TestLedgerSQL(t *testing.T) {
	e := warehouse.LedgerEntry{Location: "dumps/2026-01-02/x'y/", Kind: warehouse.DumpIncremental, Base: "dumps/2026-01-01/a/",
		SnapshotTime: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3600)), Tables: 3, Rows: 42,
		LoadedAt: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC), Tool: "metricgate v1.2.3"}
	cols := `"seq", "location", "kind", "base", "snapshot_time", "table_count", "row_count", "loaded_at", "tool"`
	insert := `INSERT INTO "gitlab_public"."metricgate_ledger" (` + cols + `) SELECT COALESCE(MAX("seq"), 0) + 1, 'dumps/2026-01-02/x\'y/', 'incremental', 'dumps/2026-01-01/a/', ` +
		`TO_TIMESTAMP_TZ('2026-01-02 02:04:05.000000600 +00:00', 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'), 3, 42, ` +
		`TO_TIMESTAMP_TZ('2026-01-02 04:00:00.000000000 +00:00', 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'), 'metricgate v1.2.3' FROM "gitlab_public"."metricgate_ledger"`
	if got := insertLedgerSQL("gitlab_public", e); got != insert {
		t.Errorf("insert:\n%s\nwant\n%s", got, insert)
	}
	full := e
	full.Kind, full.Base = warehouse.DumpFull, ""
	if got := insertLedgerSQL("s", full); !strings.Contains(got, `'full', NULL, TO_TIMESTAMP_TZ(`) {
		t.Errorf("a full dump's base is NULL: %s", got)
	}
	create := `CREATE TABLE IF NOT EXISTS "gitlab_public_staging"."metricgate_ledger" ("seq" NUMBER(38,0) NOT NULL, "location" VARCHAR NOT NULL, "kind" VARCHAR NOT NULL,` +
		` "base" VARCHAR, "snapshot_time" TIMESTAMP_TZ, "table_count" NUMBER(38,0), "row_count" NUMBER(38,0), "loaded_at" TIMESTAMP_TZ NOT NULL, "tool" VARCHAR)`
	swap := ledgerSwapSQL("gitlab_public", "gitlab_public_staging", e)
	want := []string{
		create,
		`INSERT INTO "gitlab_public_staging"."metricgate_ledger" (` + cols + `) SELECT ` + cols + ` FROM "gitlab_public"."metricgate_ledger"`,
		strings.ReplaceAll(insert, `"gitlab_public"."metricgate_ledger"`, `"gitlab_public_staging"."metricgate_ledger"`),
	}
	if strings.Join(swap, "\n") != strings.Join(want, "\n") {
		t.Errorf("ledger before the swap:\n%s\nwant\n%s", strings.Join(swap, "\n"), strings.Join(want, "\n"))
	}
	tb := warehouse.DumpTable{Name: "notes", Mode: warehouse.DumpIncremental, Key: "id", Columns: []warehouse.Column{{Name: "id", Type: warehouse.Type{Kind: warehouse.KindInt}}}}
	tx := incrementTxSQL("gitlab_public", "gitlab_public_staging", []warehouse.DumpTable{tb}, e)
	if len(tx) != 3 || !strings.HasPrefix(tx[0], `DELETE FROM "gitlab_public"."notes"`) || tx[2] != insert {
		t.Errorf("increment transaction: the ledger entry must be its last statement:\n%s", strings.Join(tx, "\n"))
	}
	if got := selectLedgerSQL("gitlab_public"); got != `SELECT `+cols+` FROM "gitlab_public"."metricgate_ledger" ORDER BY "seq"` {
		t.Errorf("select: %s", got)
	}
}

// TestDumpSuiteSQL renders Snowflake's statements for every step of the
// dump suite (warehousetest.DumpSteps), which TestIntegration runs on an
// account: each table is staged with its columns in file order (an
// incremental table's deleted keys with the key column only) and copied
// from its own stage path; a dump's ledger entry goes into the staging
// schema before the swap; an increment's transaction merges exactly the
// tables it lists (a full table replaced, an incremental one keyed on
// its key, from its upserts and deleted keys) and ends with its ledger
// entry. Row counts are checked in Go (stager.table) and by the account.
func TestDumpSuiteSQL(t *testing.T) {
	const staging = warehousetest.DumpSchema + "_staging"
	for _, st := range warehousetest.DumpSteps() {
		for _, tb := range st.Tables {
			staged := []warehouse.DumpTable{tb}
			if tb.Incremental() {
				staged = append(staged, tb.DeletedKeys())
			}
			for _, s := range staged {
				defs := make([]string, len(s.Columns))
				for i, c := range s.Columns {
					defs[i] = quote(c.Name) + " " + typeSQL(c.Type)
				}
				want := "CREATE TABLE " + quote(staging) + "." + quote(s.Name) + " (" + strings.Join(defs, ", ") + ")"
				if got := createDumpTableSQL(staging, s); got != want {
					t.Errorf("%s: table %s: %s, want %s", st.Name, s.Name, got, want)
				}
				if got := copyDumpSQL(staging, "st", s); !strings.Contains(got, `FROM @"st"/`+s.Name+`/)`) || strings.Count(got, "$") != len(s.Columns) {
					t.Errorf("%s: table %s: copy reads another path or not every column: %s", st.Name, s.Name, got)
				}
			}
		}
		if !st.Increment {
			swap := ledgerSwapSQL(warehousetest.DumpSchema, staging, st.Entry)
			if last := swap[len(swap)-1]; !strings.Contains(last, quote(staging)+"."+quote(warehouse.LedgerTable)) || !strings.Contains(last, literal(st.Entry.Location)) {
				t.Errorf("%s: the ledger entry is not written into the staging schema: %s", st.Name, last)
			}
			continue
		}
		tx := incrementTxSQL(warehousetest.DumpSchema, staging, st.Tables, st.Entry)
		if len(tx) != 2*len(st.Tables)+1 || !strings.Contains(tx[len(tx)-1], literal(st.Entry.Location)) {
			t.Errorf("%s: the transaction is not the tables' merges and then the ledger entry:\n%s", st.Name, strings.Join(tx, "\n"))
			continue
		}
		for i, tb := range st.Tables {
			target := quote(warehousetest.DumpSchema) + "." + quote(tb.Name)
			del, ins := tx[2*i], tx[2*i+1]
			switch {
			case !tb.Incremental() && del != "DELETE FROM "+target:
				t.Errorf("%s: full table %s: %s, want all its rows deleted", st.Name, tb.Name, del)
			case tb.Incremental() && (!strings.HasPrefix(del, "DELETE FROM "+target+" USING ") || !strings.Contains(del, quote(tb.Name+"__deletes")) ||
				!strings.HasSuffix(del, target+"."+quote(tb.Key)+" = d."+quote(tb.Key))):
				t.Errorf("%s: incremental table %s: %s, want the rows of its upserts' and deleted keys deleted", st.Name, tb.Name, del)
			}
			if !strings.HasPrefix(ins, "INSERT INTO "+target+" ") || !strings.HasSuffix(ins, " FROM "+quote(staging)+"."+quote(tb.Name)) {
				t.Errorf("%s: table %s: %s, want its staged rows inserted", st.Name, tb.Name, ins)
			}
		}
	}
}
