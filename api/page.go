package api

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"gitlab.com/metricgate/metricgate/history"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"human": human,
	"ago": func(now time.Time, t *time.Time) string {
		if t == nil {
			return "never"
		}
		return human(now.Sub(*t)) + " ago"
	},
	"at": func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 UTC") },
	"in": func(now, t time.Time) string {
		if !t.After(now) {
			return "now"
		}
		return "in " + human(t.Sub(now))
	},
	"count":   count,
	"percent": func(v *float64) string { return fmt.Sprintf("%.1f%%", 100**v) },
	"upper":   strings.ToUpper,
}).Parse(pageHTML))

// pageData is what page.html shows.
type pageData struct {
	Status   Status
	Warning  string
	Now      time.Time
	Rows     []pageRow
	Failures []pageFailure
	Counts   map[string]int
	// Window is the SLO window, as people say it.
	Window string
}

type pageRow struct {
	QueryStatus
	LastStatus string
	Rows       string
	Suppressed string
	Duration   string
	MaxAge     string
	// Summary is the description's first sentence.
	Summary string
	// Note is the newest run's status when it says more than State
	// (skipped, running, failed while the data is still fresh).
	Note  string
	Chart template.HTML
}

// pageFailure is a query's newest failure among its last runs.
type pageFailure struct {
	Query string
	RunID int64
	At    time.Time
	Error string
	// Failed counts its failed runs among Of, its last runs.
	Failed, Of int
}

var downTemplate = template.Must(template.New("down").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30"><title>UNKNOWN · metricgate</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:52rem;padding:0 1rem;color:#222}
.state{display:inline-block;padding:.2rem .6rem;border-radius:4px;background:#b42318;color:#fff;font-weight:600}
.warning{background:#fff4e5;border:1px solid #f5a524;padding:.5rem 1rem;border-radius:4px}.muted{color:#666}</style></head>
<body>{{with .Warning}}<div class="warning" role="alert">⚠ {{.}}</div>{{end}}
<h1>metricgate <span class="state" id="overall">UNKNOWN</span></h1>
<p id="history-down">The history database cannot be read, so the status is unknown for now: what ran, what is fresh and what failed
are recorded there. This page tries again every 30 seconds.</p>
{{with .Tick}}<p id="tick-error">{{.}}</p>{{end}}
<p class="muted">Request {{.RequestID}} · the cause is in metricgate's log.</p>
</body></html>
`))

// pageDown answers GET / when the history cannot be read: 503 with a page
// that says so (and why the newest tick's run could not start, when it
// could not), never the cause, which is logged.
func (a *API) pageDown(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	a.log.Error("http request", slog.String("request_id", requestIDOf(r)), slog.String("path", r.URL.Path),
		slog.String("error", err.Error()))
	d := struct{ Warning, Tick, RequestID string }{Warning: a.warning, RequestID: requestIDOf(r)}
	var lines []string
	if te := a.tickError(); te != nil {
		lines = append(lines, te.problem())
	}
	for _, j := range a.jobErrors() {
		lines = append(lines, j.problem())
	}
	d.Tick = strings.Join(lines, "; ")
	var buf bytes.Buffer
	if err := downTemplate.Execute(&buf, d); err != nil {
		a.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Retry-After", "30")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(buf.Bytes())
}

// page is GET /: the status page, server-rendered, no JavaScript; it
// reloads itself every minute.
func (a *API) page(w http.ResponseWriter, r *http.Request) {
	snap, err := a.status.get(r.Context())
	if err != nil {
		a.pageDown(w, r, err)
		return
	}
	d := pageData{Status: snap.Status, Warning: a.warning, Now: snap.Status.GeneratedAt,
		Counts: map[string]int{}, Window: human(time.Duration(snap.Status.SLOWindowSeconds * float64(time.Second)))}
	for _, q := range snap.Status.Queries {
		d.Counts[q.State]++
		row := pageRow{QueryStatus: q, LastStatus: "—", Rows: "—", Suppressed: "—", Duration: "—",
			MaxAge: human(time.Duration(q.MaxAgeSeconds * float64(time.Second)))}
		hist := snap.History[q.Name]
		if len(hist) > 0 {
			row.LastStatus = string(hist[0].Status)
			if hist[0].Status != history.QueryRunning {
				// The newest run's rows from every source it ran on.
				// Suppressed rows are decades, which do not add up: one
				// per source ("1-9 + 0").
				var rows int64
				var suppressed []string
				for _, h := range hist {
					if h.RunID == hist[0].RunID {
						rows += h.RowsLoaded
						suppressed = append(suppressed, h.RowsSuppressed.String())
					}
				}
				row.Rows, row.Suppressed = count(rows), strings.Join(suppressed, " + ")
				row.Duration = seconds(hist[0].Duration)
			}
		}
		// The chart and the failures: the newest runs, of every source.
		hist = hist[:min(len(hist), historyDepth)]
		row.Summary = summary(q.Description)
		if row.LastStatus != "—" && row.LastStatus != string(history.QuerySucceeded) && row.LastStatus != q.State &&
			!(row.LastStatus == string(history.QueryFailed) && q.State == StateFailing) {
			row.Note = row.LastStatus
		}
		row.Chart = chart(hist)
		d.Rows = append(d.Rows, row)
		var f *pageFailure
		for _, h := range hist {
			if h.Status != history.QueryFailed {
				continue
			}
			if f == nil {
				f = &pageFailure{Query: q.Name, RunID: h.RunID, At: h.FinishedAt, Error: h.Error, Of: len(hist)}
			}
			f.Failed++
		}
		if f != nil && hist[0].Status == history.QueryFailed { // failing now: not a query that recovered
			d.Failures = append(d.Failures, *f)
		}
	}
	slices.SortFunc(d.Failures, func(x, y pageFailure) int { return y.At.Compare(x.At) })
	d.Failures = d.Failures[:min(len(d.Failures), 10)]
	var buf bytes.Buffer
	if err := a.pageTmpl.Execute(&buf, d); err != nil {
		a.log.Error("render the status page", slog.String("error", err.Error()))
		a.error(w, r, http.StatusInternalServerError, "internal", "render the status page")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Header().Set("Referrer-Policy", "no-referrer")
	code := http.StatusOK
	if snap.Status.Stale || snap.Status.Failing {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// summary is the first sentence of a description, at most 120
// characters.
func summary(desc string) string {
	desc = oneLine(desc, 1000)
	if i := strings.Index(desc, ". "); i >= 0 {
		desc = desc[:i+1]
	}
	return oneLine(desc, 120)
}

// count prints n with thin thousands separators: 1 234 567.
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func seconds(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return human(d)
}

// Chart geometry: 30 slots of 8 px; durations as bars in the upper band,
// rows loaded as a line in the lower band.
const (
	chartW, chartSlot   = 240, 8
	chartBars, chartGap = 34, 4
	chartLine           = 22
	chartH              = chartBars + chartGap + chartLine
)

// chart draws a query's last runs (hist, newest first), oldest at the
// left: a bar per run whose height is its duration (red when it failed,
// grey when skipped), and a line of the rows loaded by the runs that
// succeeded. Every bar has a tooltip.
func chart(hist []history.QueryRun) template.HTML {
	runs := slices.Clone(hist)
	slices.Reverse(runs)
	var maxD time.Duration
	var maxRows int64
	for _, r := range runs {
		maxD = max(maxD, r.Duration)
		if r.Status == history.QuerySucceeded {
			maxRows = max(maxRows, r.RowsLoaded)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="last %d runs: duration bars, rows line">`,
		chartW, chartH, chartW, chartH, len(runs))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" class="band"/>`, chartW, chartBars)
	fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" class="band"/>`, chartBars+chartGap, chartW, chartLine)
	off := chartW - len(runs)*chartSlot // newest at the right edge
	var points []string
	for i, r := range runs {
		x := off + i*chartSlot
		h := 2
		if maxD > 0 {
			h = max(2, int(float64(r.Duration)/float64(maxD)*float64(chartBars-2)))
		}
		cls := "ok"
		switch r.Status {
		case history.QueryFailed:
			cls, h = "fail", max(h, chartBars/2) // a failure shows even when it was quick
		case history.QuerySkipped:
			cls = "skip"
		case history.QueryRunning:
			cls = "run"
		}
		title := fmt.Sprintf("run %d · %s · %s · %s rows", r.RunID, r.Status, seconds(r.Duration), count(r.RowsLoaded))
		if !r.StartedAt.IsZero() {
			title = r.StartedAt.UTC().Format("2 Jan 15:04") + " · " + title
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="%s"><title>%s</title></rect>`,
			x+1, chartBars-h, chartSlot-2, h, cls, template.HTMLEscapeString(title))
		if r.Status == history.QuerySucceeded {
			y := chartBars + chartGap + chartLine - 2
			if maxRows > 0 {
				y -= int(float64(r.RowsLoaded) / float64(maxRows) * float64(chartLine-4))
			}
			points = append(points, fmt.Sprintf("%d,%d", x+chartSlot/2, y))
		}
	}
	if len(points) > 0 {
		fmt.Fprintf(&b, `<polyline class="rows" points="%s"/>`, strings.Join(points, " "))
		last := points[len(points)-1]
		xy := strings.Split(last, ",")
		fmt.Fprintf(&b, `<circle class="rows-dot" cx="%s" cy="%s" r="2.5"/>`, xy[0], xy[1])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above from numbers and escaped text only
}
