//go:build !no_snowflake

package snowflake

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        `"plain"`,
		"MixedCase":    `"MixedCase"`,
		"with space":   `"with space"`,
		`say "hi"`:     `"say ""hi"""`,
		"_snapshot":    `"_snapshot"`,
		"select":       `"select"`,
		"t__mg_new_ab": `"t__mg_new_ab"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"metricgate:int": `'metricgate:int'`,
		`it's`:           `'it\'s'`,
		`back\slash`:     `'back\\slash'`,
	} {
		if got := literal(in); got != want {
			t.Errorf("literal(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTypeSQL(t *testing.T) {
	for _, tc := range []struct {
		t    warehouse.Type
		want string
	}{
		{warehouse.Type{Kind: warehouse.KindInt}, "NUMBER(38,0)"},
		{warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}, "NUMBER(12,2)"},
		{warehouse.Type{Kind: warehouse.KindNumeric, Precision: 38, Scale: 38}, "NUMBER(38,38)"},
		{warehouse.Type{Kind: warehouse.KindNumeric, Precision: 39, Scale: 2}, "FLOAT"},
		{warehouse.Type{Kind: warehouse.KindNumeric}, "FLOAT"},
		{warehouse.Type{Kind: warehouse.KindFloat}, "FLOAT"},
		{warehouse.Type{Kind: warehouse.KindText}, "VARCHAR"},
		{warehouse.Type{Kind: warehouse.KindBool}, "BOOLEAN"},
		{warehouse.Type{Kind: warehouse.KindDate}, "DATE"},
		{warehouse.Type{Kind: warehouse.KindTimestamp}, "TIMESTAMP_NTZ"},
		{warehouse.Type{Kind: warehouse.KindTimestampTZ}, "TIMESTAMP_TZ"},
		{warehouse.Type{Kind: warehouse.KindInterval}, "VARCHAR"},
		{warehouse.Type{Kind: warehouse.KindJSON}, "VARIANT"},
		{warehouse.Type{Kind: warehouse.KindInt, Array: true}, "ARRAY"},
		{warehouse.Type{Kind: warehouse.KindText, Array: true}, "ARRAY"},
	} {
		if got := typeSQL(tc.t); got != tc.want {
			t.Errorf("typeSQL(%v) = %s, want %s", tc.t, got, tc.want)
		}
		// The comment round-trips the logical type.
		got := logicalOf(typeSQL(tc.t), commentPrefix+tc.t.String())
		if got != tc.t {
			t.Errorf("logicalOf(%s, comment of %v) = %v", typeSQL(tc.t), tc.t, got)
		}
	}
}

func TestLogicalOfWithoutComment(t *testing.T) {
	for sqlType, want := range map[string]string{
		"NUMBER(38,0)":  "int",
		"NUMBER(10,0)":  "numeric(10,0)",
		"NUMBER(12,2)":  "numeric(12,2)",
		"FLOAT":         "float",
		"VARCHAR":       "text",
		"BOOLEAN":       "bool",
		"DATE":          "date",
		"TIMESTAMP_NTZ": "timestamp",
		"TIMESTAMP_TZ":  "timestamptz",
		"TIMESTAMP_LTZ": "timestamptz",
		"VARIANT":       "json",
		"ARRAY":         "json[]",
		"BINARY":        "text",
	} {
		if got := logicalOf(sqlType, "a comment someone wrote").String(); got != want {
			t.Errorf("logicalOf(%s) = %s, want %s", sqlType, got, want)
		}
	}
	if got := physical("NUMBER", 12, 2); got != "NUMBER(12,2)" {
		t.Errorf("physical(NUMBER, 12, 2) = %s", got)
	}
	if got := physical("TEXT", 0, 0); got != "VARCHAR" {
		t.Errorf("physical(TEXT) = %s", got)
	}
}

func TestParseTypeErrors(t *testing.T) {
	for _, s := range []string{"", "integer", "numeric(12)", "numeric(a,b)", "numeric(12,2"} {
		if got, err := parseType(s); err == nil {
			t.Errorf("parseType(%q) = %v, want an error", s, got)
		}
	}
}

var testCols = []warehouse.Column{
	{Name: "n", Type: warehouse.Type{Kind: warehouse.KindInt}},
	{Name: "Odd \"name\"", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}},
	{Name: "avg", Type: warehouse.Type{Kind: warehouse.KindNumeric}},
	{Name: "tz", Type: warehouse.Type{Kind: warehouse.KindTimestampTZ}},
	{Name: "j", Type: warehouse.Type{Kind: warehouse.KindJSON}},
	{Name: "tags", Type: warehouse.Type{Kind: warehouse.KindText, Array: true}},
}

func TestCreateTableSQL(t *testing.T) {
	defs := make([]columnDef, len(testCols))
	for i, c := range testCols {
		defs[i] = defOf(c)
	}
	want := `CREATE TABLE IF NOT EXISTS "m" (` +
		`"n" NUMBER(38,0) COMMENT 'metricgate:int', ` +
		`"Odd ""name""" NUMBER(12,2) COMMENT 'metricgate:numeric(12,2)', ` +
		`"avg" FLOAT COMMENT 'metricgate:numeric', ` +
		`"tz" TIMESTAMP_TZ COMMENT 'metricgate:timestamptz', ` +
		`"j" VARIANT COMMENT 'metricgate:json', ` +
		`"tags" ARRAY COMMENT 'metricgate:text[]')`
	if got := createTableSQL("m", defs, true); got != want {
		t.Errorf("createTableSQL =\n%s\nwant\n%s", got, want)
	}
	// A column of a table created by hand has no logical type to record.
	got := createTableSQL("m__mg_new_1", []columnDef{{Name: "x", SQLType: "VARCHAR"}}, false)
	if want := `CREATE TABLE "m__mg_new_1" ("x" VARCHAR)`; got != want {
		t.Errorf("createTableSQL = %s, want %s", got, want)
	}
}

func TestEvolveSQL(t *testing.T) {
	d := defOf(testCols[5])
	if got, want := addColumnSQL("m", d), `ALTER TABLE "m" ADD COLUMN IF NOT EXISTS "tags" ARRAY`; got != want {
		t.Errorf("addColumnSQL = %s, want %s", got, want)
	}
	if got, want := commentSQL("m", d), `COMMENT ON COLUMN "m"."tags" IS 'metricgate:text[]'`; got != want {
		t.Errorf("commentSQL = %s, want %s", got, want)
	}
}

func TestLoadSQL(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{rawTableSQL("m__mg_raw_1", testCols[:2]), `CREATE TEMPORARY TABLE "m__mg_raw_1" ("n" VARCHAR, "Odd ""name""" VARCHAR)`},
		{createStageSQL("m__mg_stage_1"), `CREATE TEMPORARY STAGE "m__mg_stage_1"`},
		{putSQL("/tmp/metricgate-snowflake-1/part-000001.csv.gz", "m__mg_stage_1"),
			`PUT 'file:///tmp/metricgate-snowflake-1/part-000001.csv.gz' @"m__mg_stage_1" AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE`},
		{copySQL("m__mg_raw_1", "m__mg_stage_1"),
			`COPY INTO "m__mg_raw_1" FROM @"m__mg_stage_1" FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\n'` +
				` FIELD_OPTIONALLY_ENCLOSED_BY = '"' ESCAPE = NONE ESCAPE_UNENCLOSED_FIELD = NONE NULL_IF = ('\\N')` +
				` EMPTY_FIELD_AS_NULL = FALSE ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE COMPRESSION = GZIP ENCODING = 'UTF8' SKIP_HEADER = 0)` +
				` ON_ERROR = ABORT_STATEMENT PURGE = TRUE`},
		{dropSQL("m__mg_raw_1"), `DROP TABLE IF EXISTS "m__mg_raw_1"`},
	} {
		if tc.got != tc.want {
			t.Errorf("got\n%s\nwant\n%s", tc.got, tc.want)
		}
	}
}

func TestDeleteSQL(t *testing.T) {
	day := time.Date(2024, 5, 1, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		mode     warehouse.Mode
		source   string
		want     string
		wantArgs []any
	}{
		{warehouse.Append, "ci_eu", `DELETE FROM "m" WHERE "_snapshot_date" = TO_DATE(?, 'YYYY-MM-DD') AND ("_source" = ? OR "_source" IS NULL)`, []any{"2024-05-01", "ci_eu"}},
		{warehouse.Replace, "ci_eu", `DELETE FROM "m" WHERE ("_source" = ? OR "_source" IS NULL)`, []any{"ci_eu"}},
		// No source: the rows of every source, as before there were sources.
		{warehouse.Append, "", `DELETE FROM "m" WHERE "_snapshot_date" = TO_DATE(?, 'YYYY-MM-DD')`, []any{"2024-05-01"}},
		{warehouse.Replace, "", `DELETE FROM "m"`, nil},
	} {
		load := warehouse.Load{Table: "m", Mode: tc.mode, Provenance: warehouse.Provenance{SnapshotDate: day, Source: tc.source}}
		got, args := deleteSQL(load)
		if got != tc.want || !slices.Equal(args, tc.wantArgs) {
			t.Errorf("%s, source %q: deleteSQL =\n%s %q\nwant\n%s %q", tc.mode, tc.source, got, args, tc.want, tc.wantArgs)
		}
		if n := strings.Count(got, "?"); n != len(args) {
			t.Errorf("%s, source %q: %d placeholders for %d args", tc.mode, tc.source, n, len(args))
		}
	}
}

func TestInsertSQL(t *testing.T) {
	cols := slices.Concat(testCols, []warehouse.Column{
		{Name: "f", Type: warehouse.Type{Kind: warehouse.KindFloat}},
		{Name: "s", Type: warehouse.Type{Kind: warehouse.KindText}},
		{Name: "b", Type: warehouse.Type{Kind: warehouse.KindBool}},
		{Name: "d", Type: warehouse.Type{Kind: warehouse.KindDate}},
		{Name: "ts", Type: warehouse.Type{Kind: warehouse.KindTimestamp}},
		{Name: "iv", Type: warehouse.Type{Kind: warehouse.KindInterval}},
	})
	want := `INSERT INTO "m" ("n", "Odd ""name""", "avg", "tz", "j", "tags", "f", "s", "b", "d", "ts", "iv", ` +
		`"_snapshot_date", "_run_id", "_query_sha256", "_commit", "_loaded_at", "_mr_iid", "_source") SELECT ` +
		`CAST("n" AS NUMBER(38,0)), CAST("Odd ""name""" AS NUMBER(12,2)), CAST("avg" AS FLOAT), ` +
		`TO_TIMESTAMP_TZ("tz", 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'), PARSE_JSON("j"), CAST(PARSE_JSON("tags") AS ARRAY), ` +
		`CAST("f" AS FLOAT), "s", TO_BOOLEAN("b"), TO_DATE("d", 'YYYY-MM-DD'), ` +
		`TO_TIMESTAMP_NTZ("ts", 'YYYY-MM-DD HH24:MI:SS.FF9'), "iv", ` +
		`TO_DATE(?, 'YYYY-MM-DD'), CAST(? AS NUMBER(38,0)), ?, ?, TO_TIMESTAMP_TZ(?, 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'), CAST(? AS NUMBER(38,0)), ? ` +
		`FROM "m__mg_raw_1"`
	if got := insertSQL("m", "m__mg_raw_1", cols); got != want {
		t.Errorf("insertSQL =\n%s\nwant\n%s", got, want)
	}
	args := provenanceArgs(warehouse.Provenance{
		SnapshotDate: time.Date(2024, 5, 1, 23, 0, 0, 0, time.UTC),
		RunID:        42, QuerySHA256: "ab12", Commit: "",
		LoadedAt: time.Date(2024, 5, 2, 6, 7, 8, 123456000, time.FixedZone("CEST", 2*3600)),
	})
	wantArgs := []any{"2024-05-01", "42", "ab12", "", "2024-05-02 04:07:08.123456000 +00:00", nil, nil}
	if len(args) != len(wantArgs) {
		t.Fatalf("provenanceArgs = %q", args)
	}
	for i := range args {
		if args[i] != wantArgs[i] {
			t.Errorf("provenanceArgs[%d] = %q, want %q", i, args[i], wantArgs[i])
		}
	}
	if args := provenanceArgs(warehouse.Provenance{SnapshotDate: time.Now(), MRIID: 12}); args[len(args)-2] != "12" {
		t.Errorf("provenanceArgs with MRIID 12: _mr_iid bound as %q, want \"12\"", args[len(args)-2])
	}
	if args := provenanceArgs(warehouse.Provenance{SnapshotDate: time.Now(), Source: "ci_eu"}); args[len(args)-1] != "ci_eu" {
		t.Errorf("provenanceArgs with source ci_eu: _source bound as %q", args[len(args)-1])
	}
	if n := strings.Count(want, "?"); n != len(args) {
		t.Errorf("insertSQL has %d placeholders for %d provenance args", n, len(args))
	}
}

func TestReadSQL(t *testing.T) {
	cols := []tableColumn{
		{Name: "n", SQLType: "NUMBER(38,0)"}, {Name: "f", SQLType: "FLOAT"}, {Name: "s", SQLType: "VARCHAR"},
		{Name: "b", SQLType: "BOOLEAN"}, {Name: "d", SQLType: "DATE"}, {Name: "ts", SQLType: "TIMESTAMP_NTZ"},
		{Name: "tz", SQLType: "TIMESTAMP_TZ"}, {Name: "j", SQLType: "VARIANT"}, {Name: "a", SQLType: "ARRAY"},
	}
	want := `SELECT TO_VARCHAR("n"), "f", "s", "b", TO_VARCHAR("d", 'YYYY-MM-DD'), ` +
		`TO_VARCHAR("ts", 'YYYY-MM-DD HH24:MI:SS.FF9'), TO_VARCHAR("tz", 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'), ` +
		`TO_JSON("j"), TO_JSON("a") FROM "m"`
	if got := readSQL("m", cols); got != want {
		t.Errorf("readSQL =\n%s\nwant\n%s", got, want)
	}
}

func TestCompare(t *testing.T) {
	table := []tableColumn{
		{Name: "n", SQLType: "NUMBER(38,0)", Type: warehouse.Type{Kind: warehouse.KindInt}},
		{Name: "iv", SQLType: "VARCHAR", Type: warehouse.Type{Kind: warehouse.KindInterval}},
		{Name: "m", SQLType: "NUMBER(12,2)", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 12, Scale: 2}},
		{Name: "gone", SQLType: "VARCHAR", Type: warehouse.Type{Kind: warehouse.KindText}},
	}
	load := []warehouse.Column{
		{Name: "n", Type: warehouse.Type{Kind: warehouse.KindInt}},
		{Name: "iv", Type: warehouse.Type{Kind: warehouse.KindText}},                            // same VARCHAR, other kind
		{Name: "m", Type: warehouse.Type{Kind: warehouse.KindNumeric, Precision: 14, Scale: 2}}, // other NUMBER
		{Name: "new", Type: warehouse.Type{Kind: warehouse.KindBool}},
	}
	missing, conflicts := compare(table, load)
	if len(missing) != 1 || missing[0].Name != "new" {
		t.Errorf("missing = %v, want [new]", missing)
	}
	want := []string{"iv: table has interval, result has text", "m: table has numeric(12,2), result has numeric(14,2)"}
	if strings.Join(conflicts, "|") != strings.Join(want, "|") {
		t.Errorf("conflicts = %q, want %q", conflicts, want)
	}
	if missing, conflicts := compare(nil, load); len(missing) != len(load) || conflicts != nil {
		t.Errorf("compare(no table) = %v, %v; want every column missing", missing, conflicts)
	}
}
