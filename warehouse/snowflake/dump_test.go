//go:build !no_snowflake

package snowflake

import (
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
