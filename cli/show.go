package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

const (
	showArgs    = "[--config FILE] [--warehouse URL] [--limit N] TABLE"
	showSummary = "print a warehouse table: the aggregates a run loaded, newest snapshot first"
)

func cmdShow(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "show", showArgs, showSummary)
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
	wh, err := openWarehouse(ctx, cmp.Or(*whURL, cfg.Warehouse.URL.Reveal()))
	if err != nil {
		return e.fail(ExitUsage, "show", "%v", err)
	}
	defer func() { _ = wh.Close() }()
	tb, err := wh.Read(ctx, pos[0])
	if err != nil {
		return e.fail(ExitProblems, "show", "%v", err)
	}
	writeTable(e.stdout, tb, *limit)
	return ExitOK
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
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
