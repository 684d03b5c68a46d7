package warehousetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// QueryFunc runs query, one SELECT, on the warehouse a DumpWarehouse
// loads into, and returns its rows: each value as the driver scans it
// (nil for NULL). The dump suite's queries quote every identifier with
// double quotes and cast every column to VARCHAR, which DuckDB,
// PostgreSQL and Snowflake read alike.
type QueryFunc func(ctx context.Context, query string) ([][]any, error)

// QueryDB is the QueryFunc of a database/sql handle (DuckDB, Snowflake).
func QueryDB(db *sql.DB) QueryFunc {
	return func(ctx context.Context, query string) ([][]any, error) {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer func() { _ = rows.Close() }() // read-only: a close error loses nothing
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		var out [][]any
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			out = append(out, vals)
		}
		return out, rows.Err()
	}
}

// ExerciseDump checks what the loader asks of a warehouse
// (dump.Warehouse) on real files: LoadDump creates every table of a dump
// with its rows (text, integers, NULLs, quotes and commas in text,
// arrays carried as JSON, an empty table), replaces them with the next
// dump's and drops the tables the next dump lacks; a corrupt file (a
// *warehouse.CorruptError) or a wrong row count refuses the dump and
// leaves the previous tables; ApplyIncrement merges an incremental
// table's upserts and deleted keys, replaces a full table's rows, leaves
// the tables it does not list alone, and changes nothing when a count is
// wrong. newWarehouse returns a fresh warehouse and the function that
// queries it.
func ExerciseDump(ctx context.Context, t *testing.T, newWarehouse func(t *testing.T) (DumpWarehouse, QueryFunc)) {
	t.Helper()
	w, query := newWarehouse(t)
	const schema = "dump_suite"
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	entry := func(loc string, kind warehouse.DumpMode) warehouse.LedgerEntry {
		return warehouse.LedgerEntry{Location: loc, Kind: kind, SnapshotTime: at, LoadedAt: at, Tool: "metricgate test"}
	}
	issueCols := []warehouse.Column{
		{Name: "id", Type: warehouse.Type{Kind: warehouse.KindInt}, Source: "int8"},
		{Name: "title", Type: warehouse.Type{Kind: warehouse.KindText}, Source: "text"},
		{Name: "label_ids", Type: warehouse.Type{Kind: warehouse.KindInt, Array: true}, Source: "_int4"},
	}
	projectCols := []warehouse.Column{
		{Name: "id", Type: warehouse.Type{Kind: warehouse.KindInt}, Source: "int8"},
		{Name: "path", Type: warehouse.Type{Kind: warehouse.KindText}, Source: "text"},
	}
	issues := func(rows ...string) warehouse.DumpTable {
		return DumpTable("issues", issueCols, "id,title,label_ids", rows...)
	}
	projects := func(rows ...string) warehouse.DumpTable {
		return DumpTable("projects", projectCols, "id,path", rows...)
	}
	read := func(step, table string, cols ...string) []string {
		t.Helper()
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = `CAST("` + c + `" AS VARCHAR)`
		}
		rows, err := query(ctx, "SELECT "+strings.Join(sel, ", ")+` FROM "`+schema+`"."`+table+`"`)
		if err != nil {
			t.Fatalf("%s: read %s: %v", step, table, err)
		}
		out := make([]string, len(rows))
		for i, r := range rows {
			vals := make([]string, len(r))
			for j, v := range r {
				vals[j] = "NULL"
				if v != nil {
					vals[j] = fmt.Sprint(v)
					if b, ok := v.([]byte); ok {
						vals[j] = string(b)
					}
				}
			}
			out[i] = strings.Join(vals, "|")
		}
		slices.Sort(out)
		return out
	}
	expect := func(step, table string, cols []string, want ...string) {
		t.Helper()
		got := read(step, table, cols...)
		if want == nil {
			want = []string{}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: table %s holds\n%s\nwant\n%s", step, table, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	idTitle := []string{"id", "title"}
	idPath := []string{"id", "path"}
	gone := func(step, table string) {
		t.Helper()
		if _, err := query(ctx, `SELECT count(*) FROM "`+schema+`"."`+table+`"`); err == nil {
			t.Errorf("%s: table %s is still there", step, table)
		}
	}

	// A full dump: every table with its rows; an empty one.
	empty := DumpTable("milestones", projectCols, "id,path")
	first := []warehouse.DumpTable{
		issues(`1,plain,"[1,2]"`, `2,"with ""quotes"", and a comma",[]`, `3,,`),
		projects("10,gitlab-org/gitlab", "11,gitlab-org/gitaly"),
		empty,
	}
	if err := w.LoadDump(ctx, schema, first, entry("dumps/a/", warehouse.DumpFull)); err != nil {
		t.Fatalf("load dump: %v", err)
	}
	expect("first dump", "issues", idTitle, "1|plain", `2|with "quotes", and a comma`, "3|NULL")
	expect("first dump", "projects", idPath, "10|gitlab-org/gitlab", "11|gitlab-org/gitaly")
	expect("first dump", "milestones", idPath)

	// A corrupt file, then a wrong count: refused, the tables stay.
	bad := projects("12,gitlab-org/corrupt")
	bad.Files = []*warehouse.DumpFile{dumpFile("projects", "id,path", []string{"12,gitlab-org/corrupt"}, strings.Repeat("0", 64))}
	err := w.LoadDump(ctx, schema, []warehouse.DumpTable{issues("1,other,"), bad}, entry("dumps/bad/", warehouse.DumpFull))
	if ce := (*warehouse.CorruptError)(nil); !errors.As(err, &ce) {
		t.Errorf("load of a dump with a corrupt file: %v, want a *warehouse.CorruptError", err)
	}
	wrong := projects("12,gitlab-org/wrong")
	wrong.Rows = 2
	if err := w.LoadDump(ctx, schema, []warehouse.DumpTable{issues("1,other,"), wrong}, entry("dumps/bad2/", warehouse.DumpFull)); err == nil {
		t.Error("a dump whose row count is wrong loaded")
	}
	expect("after refused dumps", "issues", idTitle, "1|plain", `2|with "quotes", and a comma`, "3|NULL")
	expect("after refused dumps", "projects", idPath, "10|gitlab-org/gitlab", "11|gitlab-org/gitaly")

	// The next full dump replaces the tables and drops the one it lacks.
	if err := w.LoadDump(ctx, schema, []warehouse.DumpTable{issues("1,plain,", "2,second,", "4,fourth,"), projects("10,gitlab-org/gitlab")},
		entry("dumps/b/", warehouse.DumpFull)); err != nil {
		t.Fatalf("load the second dump: %v", err)
	}
	expect("second dump", "issues", idTitle, "1|plain", "2|second", "4|fourth")
	expect("second dump", "projects", idPath, "10|gitlab-org/gitlab")
	gone("second dump", "milestones")

	// An increment: issues incremental (2 changed, 5 new, 4 deleted),
	// projects full; a table it does not list stays.
	inc := issues("2,second edited,", `5,"fifth, new","[3]"`)
	inc.Mode, inc.Key = warehouse.DumpIncremental, "id"
	inc.Deletes, inc.DeleteRows = DumpFiles("issues.deletes", "id", "4")
	full := projects("10,gitlab-org/gitlab", "12,gitlab-org/new")
	if err := w.ApplyIncrement(ctx, schema, []warehouse.DumpTable{inc, full}, entry("dumps/c/", warehouse.DumpIncremental)); err != nil {
		t.Fatalf("apply increment: %v", err)
	}
	expect("increment", "issues", idTitle, "1|plain", "2|second edited", "5|fifth, new")
	expect("increment", "projects", idPath, "10|gitlab-org/gitlab", "12|gitlab-org/new")

	// An increment with no upserts and no deletes changes nothing.
	none := issues()
	none.Mode, none.Key = warehouse.DumpIncremental, "id"
	if err := w.ApplyIncrement(ctx, schema, []warehouse.DumpTable{none}, entry("dumps/d/", warehouse.DumpIncremental)); err != nil {
		t.Fatalf("apply an empty increment: %v", err)
	}
	expect("empty increment", "issues", idTitle, "1|plain", "2|second edited", "5|fifth, new")

	// A wrong count of deleted keys fails the whole increment.
	badInc := issues("1,plain edited,")
	badInc.Mode, badInc.Key = warehouse.DumpIncremental, "id"
	badInc.Deletes, badInc.DeleteRows = DumpFiles("issues.deletes", "id", "2")
	badInc.DeleteRows = 2
	if err := w.ApplyIncrement(ctx, schema, []warehouse.DumpTable{projects("13,gitlab-org/x"), badInc}, entry("dumps/e/", warehouse.DumpIncremental)); err == nil {
		t.Error("an increment whose count of deleted keys is wrong applied")
	}
	expect("after a refused increment", "issues", idTitle, "1|plain", "2|second edited", "5|fifth, new")
	expect("after a refused increment", "projects", idPath, "10|gitlab-org/gitlab", "12|gitlab-org/new")

	got, err := w.Ledger(ctx, schema)
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	var locs []string
	for _, e := range got {
		locs = append(locs, e.Location)
	}
	if want := "dumps/a/ dumps/b/ dumps/c/ dumps/d/"; strings.Join(locs, " ") != want {
		t.Errorf("ledger: %v, want %s", locs, want)
	}
}

// DumpTable returns a full table of a dump, name with cols, whose one
// file holds rows (CSV lines, as PostgreSQL's COPY … (FORMAT csv) writes
// them) under header; no file when there are no rows.
func DumpTable(name string, cols []warehouse.Column, header string, rows ...string) warehouse.DumpTable {
	files, n := DumpFiles(name, header, rows...)
	return warehouse.DumpTable{Name: name, Columns: cols, Rows: n, Files: files, Mode: warehouse.DumpFull}
}

// DumpFiles returns one gzip CSV file of rows under header, held in
// memory, and the count of rows; no file when there are none.
func DumpFiles(name, header string, rows ...string) ([]*warehouse.DumpFile, int64) {
	if len(rows) == 0 {
		return nil, 0
	}
	return []*warehouse.DumpFile{dumpFile(name, header, rows, "")}, int64(len(rows))
}

// dumpFile is a file of rows under header whose manifest says its
// SHA-256 is sum; its own when sum is "".
func dumpFile(name, header string, rows []string, sum string) *warehouse.DumpFile {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_, _ = io.WriteString(gz, header+"\n"+strings.Join(rows, "\n")+"\n") // in memory: no error
	_ = gz.Close()
	data := buf.Bytes()
	if sum == "" {
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
	}
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return warehouse.NewDumpFile("suite/"+name+".csv.gz", int64(len(data)), int64(len(rows)), sum, open)
}
