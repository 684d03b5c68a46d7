//go:build !no_snowflake

package snowflake

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// LoadDump replaces the tables of schema (in the DSN's database) with the
// dump's, all at once: it creates the schema <schema>_staging, uploads each
// verified file as it is (already gzip) to a temporary stage with PUT,
// creates each table there and fills it with COPY INTO … FROM (SELECT
// conversions FROM @stage), checks every row count against the manifest,
// and then swaps the two schemas with ALTER SCHEMA … SWAP WITH, which
// Snowflake does atomically; the previous tables, now in the staging
// schema, are dropped with it. The ledger (warehouse.LedgerTable) goes with the
// swap: before it, the staging schema gets a copy of schema's ledger plus
// entry, so the new tables and the ledger that says so appear together,
// and a failure before the swap leaves both as they were. The schema
// belongs to the dump: tables the dump does not have disappear with the
// swap.
func (w *Writer) LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("load dump: %w", err)
	}
	defer func() { _ = conn.Close() }() // returns the session to the pool
	staging := schema + "_staging"
	stage := schema + "__mg_dump_" + randomSuffix()
	exec := func(query string) error {
		if _, err := conn.ExecContext(ctx, query); err != nil {
			return fmt.Errorf("load dump: %s: %w", strings.SplitN(query, " (", 2)[0], err)
		}
		return nil
	}
	defer func() {
		// Best effort: the stage is temporary and vanishes with the session.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP STAGE IF EXISTS "+quote(stage))
	}()
	dir, err := os.MkdirTemp("", "metricgate-snowflake-dump-")
	if err != nil {
		return fmt.Errorf("load dump: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // temporary copies only
	for _, q := range []string{createStageSQL(stage), createSchemaSQL(staging, true), createSchemaSQL(schema, false), createLedgerSQL(schema)} {
		if err := exec(q); err != nil {
			return err
		}
	}
	st := stager{conn: conn, exec: exec, op: "load dump", dir: dir, stage: stage, staging: staging}
	for _, t := range tables {
		if err := st.table(ctx, t); err != nil {
			return err
		}
	}
	for _, q := range ledgerSwapSQL(schema, staging, entry) {
		if err := exec(q); err != nil {
			return err
		}
	}
	if err := exec(swapSchemaSQL(schema, staging)); err != nil {
		return err
	}
	return exec("DROP SCHEMA IF EXISTS " + quote(staging))
}

func createSchemaSQL(schema string, replace bool) string {
	if replace {
		return "CREATE OR REPLACE TRANSIENT SCHEMA " + quote(schema)
	}
	return "CREATE SCHEMA IF NOT EXISTS " + quote(schema)
}

func createDumpTableSQL(schema string, t warehouse.DumpTable) string {
	defs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		defs[i] = quote(c.Name) + " " + typeSQL(c.Type)
	}
	return "CREATE TABLE " + quote(schema) + "." + quote(t.Name) + " (" + strings.Join(defs, ", ") + ")"
}

// putDumpSQL uploads one dump file, compressed as it is, under the
// table's path of the stage.
func putDumpSQL(path, stage, table string) string {
	return "PUT " + literal("file://"+path) + " @" + quote(stage) + "/" + table + "/" +
		" AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE"
}

// dumpFileFormat reads PostgreSQL's COPY … (FORMAT csv, HEADER): NULL is
// an empty unquoted field, "" the empty string, quotes doubled.
const dumpFileFormat = `FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\n'` +
	` FIELD_OPTIONALLY_ENCLOSED_BY = '"' ESCAPE = NONE ESCAPE_UNENCLOSED_FIELD = NONE` +
	` NULL_IF = () EMPTY_FIELD_AS_NULL = TRUE ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE` +
	` COMPRESSION = GZIP ENCODING = 'UTF8' SKIP_HEADER = 1)`

// copyDumpSQL fills a staging table from its staged files, converting
// PostgreSQL's text forms: timestamps become ISO 8601 ("2026-01-02
// 03:04:05.5+00" → "2026-01-02T03:04:05.5+00:00"), arrays come as JSON.
func copyDumpSQL(schema, stage string, t warehouse.DumpTable) string {
	exprs := make([]string, len(t.Columns))
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quote(c.Name)
		exprs[i] = dumpConvertSQL("$"+strconv.Itoa(i+1), c.Type)
	}
	return "COPY INTO " + quote(schema) + "." + quote(t.Name) + " (" + strings.Join(names, ", ") + ") FROM (SELECT " +
		strings.Join(exprs, ", ") + " FROM @" + quote(stage) + "/" + t.Name + "/) " + dumpFileFormat +
		" ON_ERROR = ABORT_STATEMENT PURGE = TRUE"
}

func dumpConvertSQL(expr string, t warehouse.Type) string {
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
		return "TO_TIMESTAMP_NTZ(REPLACE(" + expr + ", ' ', 'T'))"
	case warehouse.KindTimestampTZ:
		return "TO_TIMESTAMP_TZ(REPLACE(" + expr + ", ' ', 'T') || ':00')"
	case warehouse.KindJSON:
		return "PARSE_JSON(" + expr + ")"
	default:
		return expr
	}
}

// ledgerSwapSQL gives the staging schema other the ledger of schema plus
// entry, before other is swapped in.
func ledgerSwapSQL(schema, other string, entry warehouse.LedgerEntry) []string {
	return []string{createLedgerSQL(other), copyLedgerSQL(schema, other), insertLedgerSQL(other, entry)}
}

func swapSchemaSQL(schema, other string) string {
	return "ALTER SCHEMA " + quote(schema) + " SWAP WITH " + quote(other)
}

// ApplyIncrement applies one increment to the tables of schema: each
// table's upserts and, for an incremental table, its deleted keys are
// staged as LoadDump stages a dump (PUT, COPY INTO a transient staging
// schema, counts checked), and then, in one transaction (BEGIN … COMMIT;
// Snowflake's DML is transactional, its DDL is not, so every CREATE comes
// before it), each table of DumpFull has its rows replaced and each
// incremental one has the rows whose key is among the upserts or the
// deletes deleted and the upserts inserted; last, entry is added to the
// ledger (created, when missing, before BEGIN). A failure before COMMIT
// rolls the transaction back: readers see the previous tables and ledger.
func (w *Writer) ApplyIncrement(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("apply increment: %w", err)
	}
	defer func() { _ = conn.Close() }() // returns the session to the pool
	staging := schema + "_staging"
	stage := schema + "__mg_dump_" + randomSuffix()
	exec := func(query string) error {
		if _, err := conn.ExecContext(ctx, query); err != nil {
			return fmt.Errorf("apply increment: %s: %w", strings.SplitN(query, " (", 2)[0], err)
		}
		return nil
	}
	defer func() {
		// Best effort: the stage is temporary and vanishes with the session.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP STAGE IF EXISTS "+quote(stage))
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+quote(staging))
	}()
	dir, err := os.MkdirTemp("", "metricgate-snowflake-increment-")
	if err != nil {
		return fmt.Errorf("apply increment: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // temporary copies only
	for _, q := range []string{createStageSQL(stage), createSchemaSQL(staging, true), createLedgerSQL(schema)} {
		if err := exec(q); err != nil {
			return err
		}
	}
	st := stager{conn: conn, exec: exec, op: "apply increment", dir: dir, stage: stage, staging: staging}
	for _, t := range tables {
		if err := st.table(ctx, t); err != nil {
			return err
		}
		if t.Incremental() {
			if err := st.table(ctx, t.DeletedKeys()); err != nil {
				return err
			}
		}
	}
	if err := exec("BEGIN"); err != nil {
		return err
	}
	for _, q := range incrementTxSQL(schema, staging, tables, entry) {
		if err := exec(q); err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") // the statement's error is the one to report
			return err
		}
	}
	return exec("COMMIT")
}

// incrementTxSQL are the statements of an increment's transaction,
// between BEGIN and COMMIT: every table's merge, then the ledger entry.
func incrementTxSQL(schema, staging string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) []string {
	var out []string
	for _, t := range tables {
		out = append(out, mergeDumpSQL(schema, staging, t)...)
	}
	return append(out, insertLedgerSQL(schema, entry))
}

// stager stages the tables of a dump or an increment in the staging
// schema: it creates each table, uploads each verified file as it is
// (already gzip) with PUT through a temporary copy in dir, fills the table
// with COPY INTO, and checks its row count against the manifest. op names
// the operation in errors.
type stager struct {
	conn                *sql.Conn
	exec                func(query string) error
	op                  string
	dir, stage, staging string
}

func (st stager) table(ctx context.Context, t warehouse.DumpTable) error {
	if err := st.exec(createDumpTableSQL(st.staging, t)); err != nil {
		return err
	}
	for i, f := range t.Files {
		path := filepath.Join(st.dir, t.Name+"."+strconv.Itoa(i+1)+".csv.gz")
		out, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("%s: %w", st.op, err)
		}
		err = f.CopyTo(ctx, out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", st.op, err)
		}
		if err := st.exec(putDumpSQL(path, st.stage, t.Name)); err != nil {
			return err
		}
		_ = os.Remove(path) // uploaded; the directory goes at the end anyway
	}
	if len(t.Files) > 0 { // nothing to copy: the table stays empty
		if err := st.exec(copyDumpSQL(st.staging, st.stage, t)); err != nil {
			return err
		}
	}
	var n int64
	if err := st.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quote(st.staging)+"."+quote(t.Name)).Scan(&n); err != nil {
		return fmt.Errorf("%s: count %s: %w", st.op, t.Name, err)
	}
	if n != t.Rows {
		return fmt.Errorf("%s: table %s: %d rows staged, the manifest says %d", st.op, t.Name, n, t.Rows)
	}
	return nil
}

// mergeDumpSQL are the statements, inside the increment's transaction,
// that bring table t of schema to the increment staged in staging.
func mergeDumpSQL(schema, staging string, t warehouse.DumpTable) []string {
	target := quote(schema) + "." + quote(t.Name)
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quote(c.Name)
	}
	cols := strings.Join(names, ", ")
	insert := "INSERT INTO " + target + " (" + cols + ") SELECT " + cols + " FROM " + quote(staging) + "." + quote(t.Name)
	if !t.Incremental() {
		return []string{"DELETE FROM " + target, insert}
	}
	key := quote(t.Key)
	return []string{
		"DELETE FROM " + target + " USING (SELECT " + key + " FROM " + quote(staging) + "." + quote(t.Name) +
			" UNION SELECT " + key + " FROM " + quote(staging) + "." + quote(t.Name+"__deletes") + ") d WHERE " + target + "." + key + " = d." + key,
		insert,
	}
}
