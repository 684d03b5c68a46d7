//go:build !no_snowflake

package snowflake

import (
	"strings"
	"testing"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/warehouse"
)

func TestLoadDumpSQL(t *testing.T) {
	tb := dump.LoadTable{Name: "namespaces", Rows: 3, Columns: []warehouse.Column{
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
	tb := dump.LoadTable{Name: "notes", Mode: dump.ModeIncremental, Key: "id", Rows: 2, DeleteRows: 1, Columns: []warehouse.Column{
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
	full.Mode = dump.ModeFull
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
