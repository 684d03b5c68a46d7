package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/warehouse"
)

const (
	showArgs    = "[--config FILE] [--warehouse URL] [--limit N] TABLE"
	showSummary = "print a warehouse table: the aggregates a run loaded, newest snapshot first"
)

func cmdShow(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "show", showArgs, showSummary+".\n\n"+showMore)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	whURL := fl.String("warehouse", "", "warehouse `URL` (default: warehouse.url of the configuration)")
	limit := fl.Int("limit", 50, "print at most `N` rows")
	pos, code, done := parseInterleaved(fl, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		fl.Usage()
		return e.fail(ExitUsage, "show", "name one table")
	}
	cfg, err := loadConfigOffline(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "show", "%v", err)
	}
	url, setting := *whURL, "--warehouse"
	if url == "" {
		url, setting = cfg.Warehouse.URL.Reveal(), "warehouse.url"
	}
	if err := checkURLScheme(url, warehouseSchemes); err != nil {
		return e.fail(ExitUsage, "show", "%s: %v", setting, err)
	}
	table := pos[0]
	tb, err := readWarehouseTable(ctx, url, table)
	var nt *noTableError
	switch {
	case errors.As(err, &nt):
		nt.setting, nt.url = setting, redactURL(url)
		return e.fail(ExitProblems, "show", "%v", nt)
	case err != nil:
		return e.fail(ExitProblems, "show", "%v", err)
	}
	writeTable(e.stdout, tb, *limit)
	return ExitOK
}

const showMore = "TABLE is a query's table, or a table of the loaded dump as SCHEMA.TABLE (gitlab_public.projects).\n" +
	"A DuckDB warehouse is opened read-only: show creates no file and does not wait for a writer"

// errNoTable is readDuckDB's answer for a table the file does not hold.
var errNoTable = errors.New("no such table")

// noTableError is a table the warehouse does not hold (or a DuckDB file
// that does not exist), with what it does hold.
type noTableError struct {
	table, setting, url string
	missingFile         string // the DuckDB file that does not exist
	tables              []string
}

func (e *noTableError) Error() string {
	if e.missingFile != "" {
		return fmt.Sprintf("the warehouse %s (%s) does not exist: nothing was loaded there yet. Load it with metricgate run or "+
			"metricgate demo, or name the warehouse that holds the table with --warehouse URL or --config FILE", e.missingFile, e.setting)
	}
	msg := fmt.Sprintf("the warehouse %s (%s) holds no table %s", e.url, e.setting, e.table)
	s := catalog.Suggest(e.table, e.tables)
	for _, t := range e.tables {
		if _, name, ok := strings.Cut(t, "."); ok && name == e.table && s == "" {
			s = t // a table of the dump, named without its schema
		}
	}
	if s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	if len(e.tables) == 0 {
		return msg + "; it holds no table at all"
	}
	return msg + "; it holds " + strings.Join(e.tables, ", ")
}

// readWarehouseTable reads table of the warehouse at url: a DuckDB file
// read-only and only when it exists, a PostgreSQL or Snowflake warehouse
// through its writer (SCHEMA.TABLE picks the schema of a PostgreSQL one).
func readWarehouseTable(ctx context.Context, url, table string) (*warehouse.Table, error) {
	if path, ok := strings.CutPrefix(url, "duckdb://"); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, &noTableError{table: table, missingFile: path}
		}
		tb, tables, err := readDuckDB(ctx, path, table)
		if errors.Is(err, errNoTable) {
			return nil, &noTableError{table: table, tables: tables}
		}
		return tb, err
	}
	name := table
	if schema, rest, ok := strings.Cut(table, "."); ok && (strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")) {
		if u, err := neturl.Parse(url); err == nil {
			q := u.Query()
			q.Set("schema", schema)
			u.RawQuery = q.Encode()
			url, name = u.String(), rest
		}
	}
	wh, err := openWarehouse(ctx, url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = wh.Close() }()
	return wh.Read(ctx, name)
}

// writeTable prints tb's rows, newest _snapshot_date first, then by the
// first column, at most limit of them.
func writeTable(w io.Writer, tb *warehouse.Table, limit int) {
	snap := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_snapshot_date" })
	rows := slices.Clone(tb.Rows)
	cells := func(r []any) []string {
		out := make([]string, len(r))
		for i, v := range r {
			out[i] = cell(v)
		}
		return out
	}
	slices.SortStableFunc(rows, func(a, b []any) int {
		if snap >= 0 {
			if c := strings.Compare(cell(b[snap]), cell(a[snap])); c != 0 {
				return c
			}
		}
		return slices.Compare(cells(a), cells(b))
	})
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	names := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		names[i] = c.Name
	}
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	for i, r := range rows {
		if i == limit {
			break
		}
		fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
	}
	_ = tw.Flush()
	if len(rows) > limit {
		fmt.Fprintf(w, "(%d of %d rows; --limit to see more)\n", limit, len(rows))
	} else {
		fmt.Fprintf(w, "(%d rows)\n", len(rows))
	}
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	case float64:
		return fmt.Sprintf("%.6g", x)
	case string:
		return oneLine(x, 40)
	}
	return oneLine(fmt.Sprint(v), 40)
}

// redactURL hides a URL's password, for messages.
func redactURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
