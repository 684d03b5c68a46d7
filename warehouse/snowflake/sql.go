//go:build !no_snowflake

package snowflake

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// The SQL of a load, as pure functions of names and columns so that tests
// can pin it without a Snowflake account.

// Formats of the CSV fields and of the conversions that read them.
const (
	dateFormat = "YYYY-MM-DD"
	ntzFormat  = "YYYY-MM-DD HH24:MI:SS.FF9"
	tzFormat   = "YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM"
)

// commentPrefix starts the comment on every column the writer creates;
// the rest is the column's logical type (warehouse.Type.String), which
// Snowflake's types alone do not tell (interval vs text, an array's
// elements, numeric vs float).
const commentPrefix = "metricgate:"

// quote returns s as a quoted identifier: case kept, " doubled.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// literal returns s as a single-quoted string literal.
func literal(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// typeSQL returns the Snowflake type of t (see the table in package warehouse).
func typeSQL(t warehouse.Type) string {
	if t.Array {
		return "ARRAY"
	}
	switch t.Kind {
	case warehouse.KindInt:
		return "NUMBER(38,0)"
	case warehouse.KindNumeric:
		if t.Precision > 0 && t.Precision <= 38 {
			return fmt.Sprintf("NUMBER(%d,%d)", t.Precision, t.Scale)
		}
		return "FLOAT"
	case warehouse.KindFloat:
		return "FLOAT"
	case warehouse.KindBool:
		return "BOOLEAN"
	case warehouse.KindDate:
		return "DATE"
	case warehouse.KindTimestamp:
		return "TIMESTAMP_NTZ"
	case warehouse.KindTimestampTZ:
		return "TIMESTAMP_TZ"
	case warehouse.KindJSON:
		return "VARIANT"
	default: // text, interval (ISO 8601)
		return "VARCHAR"
	}
}

// columnDef is a column of a table to create: name, Snowflake type and
// logical type ("" when unknown).
type columnDef struct {
	Name, SQLType, Logical string
}

func defOf(c warehouse.Column) columnDef {
	return columnDef{Name: c.Name, SQLType: typeSQL(c.Type), Logical: c.Type.String()}
}

func (d columnDef) sql() string {
	s := quote(d.Name) + " " + d.SQLType
	if d.Logical != "" {
		s += " COMMENT " + literal(commentPrefix+d.Logical)
	}
	return s
}

// createTableSQL creates a table. ifNotExists is for loads racing to
// create their table.
func createTableSQL(table string, cols []columnDef, ifNotExists bool) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = c.sql()
	}
	verb := "CREATE TABLE "
	if ifNotExists {
		verb = "CREATE TABLE IF NOT EXISTS "
	}
	return verb + quote(table) + " (" + strings.Join(defs, ", ") + ")"
}

// addColumnSQL adds one column and commentSQL records its logical type.
func addColumnSQL(table string, c columnDef) string {
	return "ALTER TABLE " + quote(table) + " ADD COLUMN IF NOT EXISTS " + quote(c.Name) + " " + c.SQLType
}

func commentSQL(table string, c columnDef) string {
	return "COMMENT ON COLUMN " + quote(table) + "." + quote(c.Name) + " IS " + literal(commentPrefix+c.Logical)
}

// rawTableSQL creates the session's temporary table the CSV files are
// copied into: one VARCHAR per result column.
func rawTableSQL(raw string, cols []warehouse.Column) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = quote(c.Name) + " VARCHAR"
	}
	return "CREATE TEMPORARY TABLE " + quote(raw) + " (" + strings.Join(defs, ", ") + ")"
}

func createStageSQL(stage string) string {
	return "CREATE TEMPORARY STAGE " + quote(stage)
}

// putSQL uploads one gzip CSV file to the stage. The file is compressed
// already; PUT encrypts it and sends it to the stage's storage.
func putSQL(path, stage string) string {
	return "PUT " + literal("file://"+path) + " @" + quote(stage) +
		" AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE"
}

// fileFormat is the format of the files encodeRow writes: every non-NULL
// value enclosed in double quotes (so "" is the empty string), NULL an
// unquoted \N, no escapes besides the doubled quote of CSV.
const fileFormat = `FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\n'` +
	` FIELD_OPTIONALLY_ENCLOSED_BY = '"' ESCAPE = NONE ESCAPE_UNENCLOSED_FIELD = NONE` +
	` NULL_IF = ('\\N') EMPTY_FIELD_AS_NULL = FALSE ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE` +
	` COMPRESSION = GZIP ENCODING = 'UTF8' SKIP_HEADER = 0)`

// copySQL loads every staged file into the raw table; any bad record fails
// the statement, and the files are removed from the stage.
func copySQL(raw, stage string) string {
	return "COPY INTO " + quote(raw) + " FROM @" + quote(stage) + " " + fileFormat +
		" ON_ERROR = ABORT_STATEMENT PURGE = TRUE"
}

// deleteSQL deletes the rows load replaces (warehouse.DeleteSQL) and
// returns the statement with its bind values, the date bound as
// YYYY-MM-DD text.
func deleteSQL(load warehouse.Load) (string, []any) {
	q, args := warehouse.DeleteSQL(quote(load.Table), load, func(_ int, c warehouse.Column) string {
		if c.Type.Kind == warehouse.KindDate {
			return "TO_DATE(?, " + literal(dateFormat) + ")"
		}
		return "?"
	})
	for i, a := range args {
		if d, ok := a.(time.Time); ok {
			args[i], _ = field(d, warehouse.Type{Kind: warehouse.KindDate})
		}
	}
	return q, args
}

// convertSQL turns the raw VARCHAR expr into a value of t's Snowflake type.
func convertSQL(expr string, t warehouse.Type) string {
	if t.Array {
		return "CAST(PARSE_JSON(" + expr + ") AS ARRAY)"
	}
	switch t.Kind {
	case warehouse.KindInt, warehouse.KindNumeric, warehouse.KindFloat:
		return "CAST(" + expr + " AS " + typeSQL(t) + ")"
	case warehouse.KindBool:
		return "TO_BOOLEAN(" + expr + ")"
	case warehouse.KindDate:
		return "TO_DATE(" + expr + ", " + literal(dateFormat) + ")"
	case warehouse.KindTimestamp:
		return "TO_TIMESTAMP_NTZ(" + expr + ", " + literal(ntzFormat) + ")"
	case warehouse.KindTimestampTZ:
		return "TO_TIMESTAMP_TZ(" + expr + ", " + literal(tzFormat) + ")"
	case warehouse.KindJSON:
		return "PARSE_JSON(" + expr + ")"
	default:
		return expr
	}
}

// insertSQL copies the raw table into table, converting each column and
// stamping the provenance, bound as provenanceArgs.
func insertSQL(table, raw string, cols []warehouse.Column) string {
	names := make([]string, 0, len(cols)+len(warehouse.ProvenanceColumns))
	exprs := make([]string, 0, cap(names))
	for _, c := range cols {
		names = append(names, quote(c.Name))
		exprs = append(exprs, convertSQL(quote(c.Name), c.Type))
	}
	for _, c := range warehouse.ProvenanceColumns {
		names = append(names, quote(c.Name))
		exprs = append(exprs, convertSQL("?", c.Type))
	}
	return "INSERT INTO " + quote(table) + " (" + strings.Join(names, ", ") + ") SELECT " +
		strings.Join(exprs, ", ") + " FROM " + quote(raw)
}

// provenanceArgs returns the bind values of insertSQL's provenance columns.
func provenanceArgs(p warehouse.Provenance) []any {
	vals := p.Values()
	args := make([]any, len(vals))
	for i, v := range vals {
		if v == nil { // _mr_iid without a merge request, _source without a source: NULL
			continue
		}
		s, _ := field(v, warehouse.ProvenanceColumns[i].Type)
		args[i] = s
	}
	return args
}

func dropSQL(table string) string {
	return "DROP TABLE IF EXISTS " + quote(table)
}

// columnsSQL lists a table's columns in the session's schema; bind the
// table name.
const columnsSQL = `SELECT column_name, data_type, numeric_precision, numeric_scale, comment` +
	` FROM information_schema.columns WHERE table_schema = CURRENT_SCHEMA() AND table_name = ?` +
	` ORDER BY ordinal_position`

// physical returns the Snowflake type information_schema describes as
// data type, precision and scale, in typeSQL's spelling.
func physical(dataType string, precision, scale int) string {
	switch dataType {
	case "NUMBER":
		return fmt.Sprintf("NUMBER(%d,%d)", precision, scale)
	case "TEXT":
		return "VARCHAR"
	}
	return dataType
}

// logicalOf returns the logical type of a column of Snowflake type sqlType
// with comment: the one the comment records, else the closest.
func logicalOf(sqlType, comment string) warehouse.Type {
	if s, ok := strings.CutPrefix(comment, commentPrefix); ok {
		if t, err := parseType(s); err == nil {
			return t
		}
	}
	var p, s int
	if _, err := fmt.Sscanf(sqlType, "NUMBER(%d,%d)", &p, &s); err == nil {
		if s == 0 && p == 38 {
			return warehouse.Type{Kind: warehouse.KindInt}
		}
		return warehouse.Type{Kind: warehouse.KindNumeric, Precision: p, Scale: s}
	}
	switch sqlType {
	case "FLOAT":
		return warehouse.Type{Kind: warehouse.KindFloat}
	case "BOOLEAN":
		return warehouse.Type{Kind: warehouse.KindBool}
	case "DATE":
		return warehouse.Type{Kind: warehouse.KindDate}
	case "TIMESTAMP_NTZ":
		return warehouse.Type{Kind: warehouse.KindTimestamp}
	case "TIMESTAMP_TZ", "TIMESTAMP_LTZ":
		return warehouse.Type{Kind: warehouse.KindTimestampTZ}
	case "VARIANT", "OBJECT":
		return warehouse.Type{Kind: warehouse.KindJSON}
	case "ARRAY":
		return warehouse.Type{Kind: warehouse.KindJSON, Array: true}
	}
	return warehouse.Type{Kind: warehouse.KindText}
}

// parseType parses warehouse.Type.String's output ("numeric(12,2)[]").
func parseType(s string) (warehouse.Type, error) {
	var t warehouse.Type
	s, t.Array = strings.CutSuffix(s, "[]")
	if rest, ok := strings.CutPrefix(s, "numeric("); ok {
		ps, ok := strings.CutSuffix(rest, ")")
		p, sc, ok2 := strings.Cut(ps, ",")
		var err1, err2 error
		t.Precision, err1 = strconv.Atoi(p)
		t.Scale, err2 = strconv.Atoi(sc)
		if !ok || !ok2 || err1 != nil || err2 != nil {
			return t, fmt.Errorf("parse type %q", s)
		}
		t.Kind = warehouse.KindNumeric
		return t, nil
	}
	for k := warehouse.KindText; k <= warehouse.KindJSON; k++ {
		if k.String() == s {
			t.Kind = k
			return t, nil
		}
	}
	return t, fmt.Errorf("parse type %q: unknown kind", s)
}

// readSQL selects every column of a table in a form readValue parses.
func readSQL(table string, cols []tableColumn) string {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		q := quote(c.Name)
		switch c.SQLType {
		case "FLOAT", "BOOLEAN", "VARCHAR":
			exprs[i] = q
		case "DATE":
			exprs[i] = "TO_VARCHAR(" + q + ", " + literal(dateFormat) + ")"
		case "TIMESTAMP_NTZ":
			exprs[i] = "TO_VARCHAR(" + q + ", " + literal(ntzFormat) + ")"
		case "TIMESTAMP_TZ", "TIMESTAMP_LTZ":
			exprs[i] = "TO_VARCHAR(" + q + ", " + literal(tzFormat) + ")"
		case "VARIANT", "OBJECT", "ARRAY":
			exprs[i] = "TO_JSON(" + q + ")"
		default:
			exprs[i] = "TO_VARCHAR(" + q + ")"
		}
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM " + quote(table)
}
