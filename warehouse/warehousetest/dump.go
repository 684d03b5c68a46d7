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
	"maps"
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

// DumpSchema is the schema the dump suite loads into.
const DumpSchema = "dump_suite"

// DumpStep is one step of the dump suite: a LoadDump or, with Increment,
// an ApplyIncrement of Tables into DumpSchema with Entry, and what the
// warehouse holds after it.
type DumpStep struct {
	Name      string
	Increment bool
	Tables    []warehouse.DumpTable
	Entry     warehouse.LedgerEntry
	// Refused: the step must fail (a wrong count, or with Corrupt a
	// corrupt file, which fails with a *warehouse.CorruptError) and change
	// nothing.
	Refused, Corrupt bool
	// Want are rows of tables after the step, by table: the columns of
	// DumpReadColumns joined by "|", NULL as "NULL", in any order.
	Want map[string][]string
	// Gone are tables that must not exist after the step.
	Gone []string
}

// DumpReadColumns are the columns of each table of the dump suite that
// DumpStep.Want holds.
var DumpReadColumns = map[string][]string{"issues": {"id", "title"}, "projects": {"id", "path"}, "milestones": {"id", "path"}}

// DumpSteps returns the steps of the dump suite, in order: a full dump
// (text with quotes and commas, NULLs, arrays as JSON, an empty table), a
// dump with a corrupt file and one with a wrong count (refused, the tables
// stay), the next full dump (replacing the tables and dropping the one it
// lacks), an increment (issues incremental: one row changed, one new, one
// deleted; projects full; a table it does not list stays), an empty
// increment, and an increment whose count of deleted keys is wrong.
func DumpSteps() []DumpStep {
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
	incremental := func(t warehouse.DumpTable, deletes ...string) warehouse.DumpTable {
		t.Mode, t.Key = warehouse.DumpIncremental, "id"
		t.Deletes, t.DeleteRows = DumpFiles(t.Name+".deletes", "id", deletes...)
		return t
	}
	corrupt := projects("12,gitlab-org/corrupt")
	corrupt.Files = []*warehouse.DumpFile{dumpFile("projects", "id,path", []string{"12,gitlab-org/corrupt"}, strings.Repeat("0", 64))}
	wrong := projects("12,gitlab-org/wrong")
	wrong.Rows = 2
	wrongDeletes := incremental(issues("1,plain edited,"), "2")
	wrongDeletes.DeleteRows = 2

	first := map[string][]string{
		"issues":     {"1|plain", `2|with "quotes", and a comma`, "3|NULL"},
		"projects":   {"10|gitlab-org/gitlab", "11|gitlab-org/gitaly"},
		"milestones": {},
	}
	incremented := map[string][]string{
		"issues":   {"1|plain", "2|second edited", "5|fifth, new"},
		"projects": {"10|gitlab-org/gitlab", "12|gitlab-org/new"},
	}
	return []DumpStep{
		{Name: "full dump", Entry: entry("dumps/a/", warehouse.DumpFull), Want: first, Tables: []warehouse.DumpTable{
			issues(`1,plain,"[1,2]"`, `2,"with ""quotes"", and a comma",[]`, `3,,`),
			projects("10,gitlab-org/gitlab", "11,gitlab-org/gitaly"),
			DumpTable("milestones", projectCols, "id,path"),
		}},
		{Name: "dump with a corrupt file", Entry: entry("dumps/bad/", warehouse.DumpFull), Refused: true, Corrupt: true, Want: first,
			Tables: []warehouse.DumpTable{issues("1,other,"), corrupt}},
		{Name: "dump with a wrong count", Entry: entry("dumps/bad2/", warehouse.DumpFull), Refused: true, Want: first,
			Tables: []warehouse.DumpTable{issues("1,other,"), wrong}},
		{Name: "next full dump", Entry: entry("dumps/b/", warehouse.DumpFull), Gone: []string{"milestones"},
			Want:   map[string][]string{"issues": {"1|plain", "2|second", "4|fourth"}, "projects": {"10|gitlab-org/gitlab"}},
			Tables: []warehouse.DumpTable{issues("1,plain,", "2,second,", "4,fourth,"), projects("10,gitlab-org/gitlab")}},
		{Name: "increment", Increment: true, Entry: entry("dumps/c/", warehouse.DumpIncremental), Want: incremented, Tables: []warehouse.DumpTable{
			incremental(issues("2,second edited,", `5,"fifth, new","[3]"`), "4"),
			projects("10,gitlab-org/gitlab", "12,gitlab-org/new"),
		}},
		{Name: "empty increment", Increment: true, Entry: entry("dumps/d/", warehouse.DumpIncremental), Want: incremented,
			Tables: []warehouse.DumpTable{incremental(issues())}},
		{Name: "increment with a wrong count of deleted keys", Increment: true, Entry: entry("dumps/e/", warehouse.DumpIncremental), Refused: true, Want: incremented,
			Tables: []warehouse.DumpTable{projects("13,gitlab-org/x"), wrongDeletes}},
	}
}

// ExerciseDump checks what the loader asks of a warehouse
// (dump.Warehouse) on real files: it runs DumpSteps in order, checking
// each step's outcome, the rows of its tables and the tables gone, and at
// the end the ledger (an entry for each step that was not refused).
// newWarehouse returns a fresh warehouse and the function that queries
// it.
func ExerciseDump(ctx context.Context, t *testing.T, newWarehouse func(t *testing.T) (DumpWarehouse, QueryFunc)) {
	t.Helper()
	w, query := newWarehouse(t)
	read := func(step, table string) []string {
		t.Helper()
		cols := DumpReadColumns[table]
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = `CAST("` + c + `" AS VARCHAR)`
		}
		rows, err := query(ctx, "SELECT "+strings.Join(sel, ", ")+` FROM "`+DumpSchema+`"."`+table+`"`)
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
	var held []string
	for _, st := range DumpSteps() {
		var err error
		if st.Increment {
			err = w.ApplyIncrement(ctx, DumpSchema, st.Tables, st.Entry)
		} else {
			err = w.LoadDump(ctx, DumpSchema, st.Tables, st.Entry)
		}
		switch ce := (*warehouse.CorruptError)(nil); {
		case st.Corrupt && !errors.As(err, &ce):
			t.Errorf("%s: %v, want a *warehouse.CorruptError", st.Name, err)
		case st.Refused && err == nil:
			t.Errorf("%s: no error, want it refused", st.Name)
		case !st.Refused && err != nil:
			t.Fatalf("%s: %v", st.Name, err)
		case !st.Refused:
			held = append(held, st.Entry.Location)
		}
		for _, table := range slices.Sorted(maps.Keys(st.Want)) {
			want := slices.Sorted(slices.Values(st.Want[table]))
			if got := read(st.Name, table); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: table %s holds\n%s\nwant\n%s", st.Name, table, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		for _, table := range st.Gone {
			if _, err := query(ctx, `SELECT count(*) FROM "`+DumpSchema+`"."`+table+`"`); err == nil {
				t.Errorf("%s: table %s is still there", st.Name, table)
			}
		}
	}
	got, err := w.Ledger(ctx, DumpSchema)
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	var locs []string
	for _, e := range got {
		locs = append(locs, e.Location)
	}
	if !slices.Equal(locs, held) {
		t.Errorf("ledger: %v, want %v", locs, held)
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
