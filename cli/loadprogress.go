package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// loadTick is how often load says it is still loading a dump.
const loadTick = 10 * time.Second

// loadProgress is the dump.Warehouse of metricgate load: it loads through
// the warehouse and says on w what it loads, how big it is, every tick
// that it is still at it, and when each dump is in. The warehouse loads a
// dump's tables in one transaction, so this is the grain the loader
// shows; which table it is on is the warehouse's to say (see the report
// of issue 17: no per-table hook yet).
type loadProgress struct {
	dump.Warehouse
	w    io.Writer
	tick time.Duration
}

func (p *loadProgress) LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error {
	return p.around(entry, "full dump", schema, tables, func() error { return p.Warehouse.LoadDump(ctx, schema, tables, entry) })
}

func (p *loadProgress) ApplyIncrement(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error {
	return p.around(entry, "increment", schema, tables, func() error { return p.Warehouse.ApplyIncrement(ctx, schema, tables, entry) })
}

// around says what load does before and after it, and while it takes long.
func (p *loadProgress) around(entry warehouse.LedgerEntry, what, schema string, tables []warehouse.DumpTable, load func() error) error {
	var rows, bytes int64
	files := 0
	for _, t := range tables {
		rows += t.Rows + t.DeleteRows
		for _, f := range append(append([]*warehouse.DumpFile(nil), t.Files...), t.Deletes...) {
			bytes += f.Bytes
			files++
		}
	}
	fmt.Fprintf(p.w, "load: loading %s %s: %d tables, %d rows, %d files (%.1f MB compressed) into schema %s\n",
		what, entry.Location, len(tables), rows, files, float64(bytes)/1e6, schema)
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(p.tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				fmt.Fprintf(p.w, "load: still loading %s (%s so far; the tables appear together when it is done)\n",
					entry.Location, formatDuration(now.Sub(start).Round(time.Second)))
			}
		}
	}()
	err := load()
	close(done)
	<-stopped
	if err == nil {
		fmt.Fprintf(p.w, "load: %s is in (%s)\n", entry.Location, formatDuration(time.Since(start)))
	}
	return err
}

// tapHandler shows a logger's records to tap, all of them from Info on,
// and passes to inner those inner wants: a command hooks the events a
// package logs (dump's "table exported") whatever the log level.
type tapHandler struct {
	inner slog.Handler
	tap   func(slog.Record)
}

func (h *tapHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.inner.Enabled(ctx, l)
}

func (h *tapHandler) Handle(ctx context.Context, r slog.Record) error {
	h.tap(r)
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

func (h *tapHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &tapHandler{inner: h.inner.WithAttrs(as), tap: h.tap}
}

func (h *tapHandler) WithGroup(name string) slog.Handler {
	return &tapHandler{inner: h.inner.WithGroup(name), tap: h.tap}
}
