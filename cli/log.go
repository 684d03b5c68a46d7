package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gitlab.com/metricgate/metricgate/internal/redact"
)

// newLogHandler returns the handler of metricgate's logs on w, as JSON or
// text (format), from level on: network addresses redacted, durations
// written as people read them ("98ms", "4h"), each key once per line, and
// a run of lines that differ only in their query and share one error
// folded into the first and one line counting the rest (repeatWindow).
// Only cli chooses the format.
func newLogHandler(w io.Writer, format string, level slog.Leveler) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: replaceAttr}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: must be json or text", format)
	}
	return &logHandler{inner: h, fold: &folder{window: repeatWindow}}, nil
}

// newLogger is newLogHandler's text logger, for the commands.
func newLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	h, _ := newLogHandler(w, "text", level) // "text" cannot fail
	return slog.New(h)
}

// replaceAttr redacts addresses (redact.ReplaceAttr) and writes durations
// as strings such as "98ms", "12.5s", "4h" and "1h30m", not as a number of
// nanoseconds.
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, formatDuration(a.Value.Duration()))
	}
	return redact.ReplaceAttr(groups, a)
}

// formatDuration rounds d to what a person reads: microseconds under a
// millisecond, milliseconds under a minute, seconds above; and drops
// trailing zero units ("4h", not "4h0m0s").
func formatDuration(d time.Duration) string {
	a := d.Abs()
	switch {
	case a < time.Millisecond:
		d = d.Round(time.Microsecond)
	case a < time.Minute:
		d = d.Round(time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// repeatWindow is how long a run of repeated lines is held back before
// its count is written, when no other line comes.
const repeatWindow = time.Second

// logHandler writes each key once per line (a logger's With attributes
// win over the same key on the line: runner's per-source logger and the
// source of a query line are one) and folds repeated lines.
type logHandler struct {
	inner slog.Handler
	keys  []string // keys of the With attributes, outside any group
	group bool     // a group is open: keys are not compared
	fold  *folder
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(as)
	if !h.group {
		c.keys = slices.Clone(h.keys)
		for _, a := range as {
			c.keys = append(c.keys, a.Key)
		}
	}
	return &c
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	c.group = true
	return &c
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.group {
		r = h.unique(r)
	}
	return h.fold.handle(ctx, h, r)
}

// unique returns r without the attributes whose key the logger's With
// attributes or an earlier attribute of r already have.
func (h *logHandler) unique(r slog.Record) slog.Record {
	seen := slices.Clone(h.keys)
	dup := false
	r.Attrs(func(a slog.Attr) bool {
		if slices.Contains(seen, a.Key) {
			dup = true
			return false
		}
		seen = append(seen, a.Key)
		return true
	})
	if !dup {
		return r
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	seen = slices.Clone(h.keys)
	r.Attrs(func(a slog.Attr) bool {
		if !slices.Contains(seen, a.Key) {
			seen = append(seen, a.Key)
			out.AddAttrs(a)
		}
		return true
	})
	return out
}

// folder folds a run of lines with the same level, message, error and
// logger into the first line and one more saying how many followed and
// for which queries: one cause (a checkout on the wrong branch) that
// skips every query is one story, not one line per query.
type folder struct {
	window time.Duration

	mu      sync.Mutex
	last    string      // key of the last line written
	h       *logHandler // its handler, to write the count with
	first   slog.Record // the last line written
	count   int         // lines held back since
	queries []string    // their queries
	timer   *time.Timer // writes the count when no other line comes
	gen     int         // invalidates a timer that fired late
}

// foldKey is what makes two lines the same story: the logger, level,
// message and error (attributes such as query, rows and duration differ
// between the queries one cause stopped). A line without an error is
// never folded.
func foldKey(h *logHandler, r slog.Record) string {
	errText := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			errText = a.Value.String()
		}
		return true
	})
	if errText == "" {
		return ""
	}
	return fmt.Sprintf("%p|%d|%s|%s|%s", h.inner, r.Level, r.Message, errText, strings.Join(h.keys, ","))
}

func (f *folder) handle(ctx context.Context, h *logHandler, r slog.Record) error {
	key := foldKey(h, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if key != "" && key == f.last {
		f.count++
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "query" {
				f.queries = append(f.queries, a.Value.String())
			}
			return true
		})
		f.gen++
		gen := f.gen
		if f.timer != nil {
			f.timer.Stop()
		}
		f.timer = time.AfterFunc(f.window, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.gen == gen {
				f.flushLocked(context.Background())
			}
		})
		return nil
	}
	f.flushLocked(ctx)
	f.last, f.h, f.first = key, h, r.Clone()
	return h.inner.Handle(ctx, r)
}

// flushLocked writes the count of the lines held back, if any.
func (f *folder) flushLocked(ctx context.Context) {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.count == 0 {
		return
	}
	r := slog.NewRecord(time.Now(), f.first.Level, f.first.Message, 0)
	r.AddAttrs(slog.Int("repeated", f.count))
	if len(f.queries) > 0 {
		r.AddAttrs(slog.String("queries", strings.Join(f.queries, ", ")))
	}
	f.first.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			r.AddAttrs(slog.String("error", "the same as the line before"))
		}
		return true
	})
	_ = f.h.inner.Handle(ctx, r)
	f.count, f.queries, f.last = 0, nil, ""
}

// flush writes the count of the lines held back, for a command that ends.
func (f *folder) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushLocked(context.Background())
}

// flushLog writes the count of the lines log held back, for a command
// about to return.
func flushLog(log *slog.Logger) {
	if h, ok := log.Handler().(*logHandler); ok {
		h.fold.flush()
	}
}
