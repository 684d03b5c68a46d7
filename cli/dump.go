package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/term"

	"gitlab.com/metricgate/metricgate/dump"
	"gitlab.com/metricgate/metricgate/warehouse"
)

const (
	dumpArgs    = "[--config FILE] [--source NAME] [--full | --incremental] [--workers N] [--split-size MB] [--level N] [--verbose]"
	dumpSummary = "export what an anonymous visitor sees of the group's public projects (dump.yml) to object storage"
)

func cmdDump(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "dump", dumpArgs, dumpSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	sourceName := fl.String("source", "", "source `name` (sources.NAME.url) of the main database (default: the source of role main in dump.cell)")
	full := fl.Bool("full", false, "make a full dump, even when an increment is possible")
	incremental := fl.Bool("incremental", false, "make an increment on the previous dump, even when dump.full_every asks for a full one; fail when there is no previous dump to apply it on")
	workers := fl.Int("workers", 2, "tables exported at once, each on its own connection to the snapshot")
	splitMB := fl.Int("split-size", 256, "start a new file of a table after this many compressed `MB`")
	level := fl.Int("level", 6, "gzip `level`, 1 (fastest) to 9 (smallest)")
	verbose := fl.Bool("verbose", false, "log every step on stderr, not only warnings and errors")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if fl.NArg() > 0 {
		return e.fail(ExitUsage, "dump", "unexpected argument %q", fl.Arg(0))
	}
	if *full && *incremental {
		return e.fail(ExitUsage, "dump", "--full and --incremental: pick one")
	}
	var kind warehouse.DumpMode // "": the dump decides
	switch {
	case *full:
		kind = dump.KindFull
	case *incremental:
		kind = dump.KindIncremental
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "dump", "%v", err)
	}
	xcfg, err := dumpConfig(cfg, *sourceName)
	if err != nil {
		return e.fail(ExitUsage, "dump", "%v", err)
	}
	switch {
	case cfg.History.URL == "":
		return e.fail(ExitUsage, "dump", "history.url is not set: every dump is recorded (METRICGATE_HISTORY_URL)")
	case cfg.Dump.StorageURL == "":
		return e.fail(ExitUsage, "dump", "dump.storage_url is not set: file:///dir, s3://bucket or gs://bucket (METRICGATE_DUMP_STORAGE_URL)")
	}
	def, err := readDumpDefinition(cfg)
	if err != nil {
		return e.fail(ExitUsage, "dump", "%v", err)
	}
	log := commandLogger(e, *verbose)
	defer flushLog(log)
	store, err := openMigratedHistory(ctx, cfg.History.URL.Reveal())
	if err != nil {
		return e.fail(ExitProblems, "dump", "%v", err)
	}
	defer func() { _ = store.Close() }()
	bucket, err := dump.OpenBucket(ctx, cfg.Dump.StorageURL)
	if err != nil {
		return e.fail(ExitUsage, "dump", "%v", err)
	}
	defer func() { _ = bucket.Close() }()
	xcfg.Workers, xcfg.SplitSize, xcfg.Level = *workers, int64(*splitMB)<<20, *level
	m, err := runDump(ctx, e, xcfg, dump.Deps{Bucket: bucket, Recorder: store, Logger: log}, def, kind)
	if err != nil {
		err = dialedSource(cfg, err)
		return e.fail(ExitProblems, "dump", "%v", err)
	}
	writeDumpTable(e.stdout, m)
	return ExitOK
}

// dumpConfig is the exporter's configuration: the main source (name, or
// the source of role main in dump.cell), the sources of the other roles
// in the same cell, and the dump keys.
func dumpConfig(cfg *Config, name string) (dump.Config, error) {
	cell, err := dumpCell(cfg)
	if err != nil {
		return dump.Config{}, err
	}
	out := dump.Config{AsOf: "", Keep: cfg.Dump.Keep, PseudonymKey: []byte(cfg.Dump.PseudonymKey.Reveal()),
		Tool: "metricgate " + Version(), Overlap: time.Duration(cfg.Dump.Overlap), FullEvery: time.Duration(cfg.Dump.FullEvery),
		Sources: map[string]dump.Source{}}
	inCell := func(role string) []string {
		var names []string
		for _, n := range cfg.sourcesOfRole(role) {
			if cfg.Sources[n].Cell == cell {
				names = append(names, n)
			}
		}
		return names
	}
	if name == "" {
		names := inCell(dump.MainRole)
		if len(names) != 1 {
			return dump.Config{}, fmt.Errorf("dump: want one source of role main in cell %q, the configuration has %d (%v): pick one with --source", cell, len(names), names)
		}
		name = names[0]
	}
	src, ok := cfg.Sources[name]
	switch {
	case !ok:
		return dump.Config{}, fmt.Errorf("--source %s: no such source in the configuration", name)
	case src.URL == "":
		return dump.Config{}, fmt.Errorf("sources.%s.url is not set", name)
	}
	out.SourceURL, out.AsOf, out.MaxAge, out.SourceName = src.URL.Reveal(), src.AsOf, time.Duration(src.MaxAge), name
	for _, role := range cfg.roles() {
		if role == src.Role {
			continue
		}
		names := inCell(role)
		if len(names) > 1 {
			return dump.Config{}, fmt.Errorf("dump: %d sources of role %s in cell %q (%v): the dump reads one database per role", len(names), role, cell, names)
		}
		if len(names) == 1 && cfg.Sources[names[0]].URL != "" {
			s := cfg.Sources[names[0]]
			out.Sources[role] = dump.Source{URL: s.URL.Reveal(), AsOf: s.AsOf, MaxAge: time.Duration(s.MaxAge), Name: names[0]}
		}
	}
	return out, nil
}

// dialedSource names the source a dump could not connect to: the one
// whose configured host, port and database the connection attempt used (a
// dump reads the main source and those of the other roles). Any other
// error is returned as it is.
func dialedSource(cfg *Config, err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) || ce.Config == nil {
		return err
	}
	for _, name := range slices.Sorted(mapKeys(cfg.Sources)) {
		url := cfg.Sources[name].URL.Reveal()
		pc, perr := pgconn.ParseConfig(url)
		if perr == nil && pc.Host == ce.Config.Host && pc.Port == ce.Config.Port && pc.Database == ce.Config.Database {
			return endpoint("source", "sources."+name+".url", url, err)
		}
	}
	return err
}

// dumpCell is the cell whose sources the dump reads: dump.cell, else ""
// (sources without a cell) when there are such, else the only cell.
func dumpCell(cfg *Config) (string, error) {
	if cfg.Dump.Cell != "" {
		return cfg.Dump.Cell, nil
	}
	cells := map[string]bool{}
	for _, s := range cfg.Sources {
		cells[s.Cell] = true
	}
	if cells[""] || len(cells) == 0 {
		return "", nil
	}
	if len(cells) == 1 {
		for c := range cells {
			return c, nil
		}
	}
	return "", fmt.Errorf("dump.cell is not set and the sources are in %d cells: set the cell the group lives in", len(cells))
}

// readDumpDefinition reads and checks dump.config; dump.group must agree
// with the file's group.
func readDumpDefinition(cfg *Config) (*dump.Definition, error) {
	def, err := dump.ParseConfig(os.DirFS(filepath.Dir(cfg.Dump.Config)), filepath.Base(cfg.Dump.Config), cfg.Guard.RedColumns)
	var ps dump.Problems
	if errors.As(err, &ps) {
		for i := range ps {
			ps[i].Path = cfg.Dump.Config
		}
		return nil, fmt.Errorf("%s has problems (run metricgate validate):\n%w", cfg.Dump.Config, ps)
	}
	if err != nil {
		return nil, err
	}
	def.Path = cfg.Dump.Config
	if cfg.Dump.Group != def.Group {
		return nil, fmt.Errorf("dump.group is %s but %s says group %s: make them agree", cfg.Dump.Group, cfg.Dump.Config, def.Group)
	}
	return def, nil
}

// runDump runs one dump, saying on stderr each table as it is exported
// ("dump: [3/15] notes: 12034 rows, 1 file in 1.2s") and, on a terminal,
// the running totals twice a second.
// running names the tables a dump is exporting now, for its progress
// line: "; exporting issues, notes" (at most three, then "and N more").
func running(tables []string) string {
	if len(tables) == 0 {
		return ""
	}
	const most = 3
	s := "; exporting " + strings.Join(tables[:min(len(tables), most)], ", ")
	if len(tables) > most {
		s += fmt.Sprintf(" and %d more", len(tables)-most)
	}
	return s
}

func runDump(ctx context.Context, e *env, cfg dump.Config, deps dump.Deps, def *dump.Definition, kind warehouse.DumpMode) (*dump.Manifest, error) {
	var (
		mu       sync.Mutex
		done     int
		total    = len(def.Tables)
		terminal = false
	)
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		terminal = true
		deps.Progress = func(p dump.Progress) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.stderr, "\r\x1b[Kdump: %d/%d tables, %d rows, %.1f MB compressed, %s%s",
				p.TablesDone, p.Tables, p.Rows, float64(p.Bytes)/1e6, p.Elapsed.Round(time.Second), running(p.Running))
			if p.TablesDone == p.Tables {
				fmt.Fprintln(e.stderr)
			}
		}
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	deps.Logger = slog.New(&tapHandler{inner: log.Handler(), tap: func(r slog.Record) {
		if r.Message != "table exported" {
			return
		}
		var table string
		var rows int64
		var files int64
		var took time.Duration
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "table":
				table = a.Value.String()
			case "rows":
				rows = a.Value.Int64()
			case "files":
				files = a.Value.Int64()
			case "duration":
				took = a.Value.Duration()
			}
			return true
		})
		mu.Lock()
		defer mu.Unlock()
		done++
		if terminal {
			fmt.Fprint(e.stderr, "\r\x1b[K") // over the running totals
		}
		fmt.Fprintf(e.stderr, "dump: [%d/%d] %s: %d rows, %d %s in %s\n", done, total, table, rows, files,
			plural(int(files), "file", "files"), formatDuration(took))
	}})
	x, err := dump.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	return x.DumpKind(ctx, def, kind)
}

func writeDumpTable(w io.Writer, m *dump.Manifest) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tMODE\tROWS\tDELETES\tFILES\tBYTES")
	var rows, bytes int64
	files := 0
	for _, t := range m.Tables {
		var b int64
		for _, f := range t.Files {
			b += f.Bytes
		}
		mode := cmp.Or(t.Mode, dump.KindFull)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", t.Name, mode, t.Rows, t.Deletes, len(t.Files), b)
		rows, bytes, files = rows+t.Rows, bytes+b, files+len(t.Files)
	}
	_ = tw.Flush()
	kind := string(cmp.Or(m.Kind, dump.KindFull))
	if m.Incremental() {
		kind += " on " + m.Base
	}
	fmt.Fprintf(w, "\ndump %s (%s): %d tables, %d rows, %d files, %.1f MB, snapshot %s\n",
		m.Location, kind, len(m.Tables), rows, files, float64(bytes)/1e6, m.SnapshotTime.Format(time.RFC3339))
}

func commandLogger(e *env, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return newLogger(e.stderr, level)
}
