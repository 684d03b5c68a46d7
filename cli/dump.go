package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"gitlab.com/metricgate/metricgate/dump"
)

const (
	dumpArgs    = "[--config FILE] [--source NAME] [--workers N] [--split-size MB] [--level N] [--verbose]"
	dumpSummary = "export what an anonymous visitor sees of the group's public projects (dump.yml) to object storage"
)

func cmdDump(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "dump", dumpArgs, dumpSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	sourceName := fl.String("source", "main", "source `name` (sources.NAME.url) to dump from")
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
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "dump", "%v", err)
	}
	src, ok := cfg.Sources[*sourceName]
	switch {
	case !ok:
		return e.fail(ExitUsage, "dump", "--source %s: no such source in the configuration", *sourceName)
	case src.URL == "":
		return e.fail(ExitUsage, "dump", "sources.%s.url is not set", *sourceName)
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
	m, err := runDump(ctx, e, dump.Config{
		SourceURL: src.URL.Reveal(), AsOf: src.AsOf, Keep: cfg.Dump.Keep, Workers: *workers,
		SplitSize: int64(*splitMB) << 20, Level: *level, PseudonymKey: []byte(cfg.Dump.PseudonymKey.Reveal()),
		Tool: "metricgate " + Version(),
	}, dump.Deps{Bucket: bucket, Recorder: store, Logger: log}, def)
	if err != nil {
		return e.fail(ExitProblems, "dump", "%v", err)
	}
	writeDumpTable(e.stdout, m)
	return ExitOK
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

// runDump runs one dump, showing its progress on a terminal.
func runDump(ctx context.Context, e *env, cfg dump.Config, deps dump.Deps, def *dump.Definition) (*dump.Manifest, error) {
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		deps.Progress = func(p dump.Progress) {
			fmt.Fprintf(e.stderr, "\rdump: %d/%d tables, %d rows, %.1f MB compressed, %s   ",
				p.TablesDone, p.Tables, p.Rows, float64(p.Bytes)/1e6, p.Elapsed.Round(time.Second))
			if p.TablesDone == p.Tables {
				fmt.Fprintln(e.stderr)
			}
		}
	}
	x, err := dump.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	return x.Dump(ctx, def)
}

func writeDumpTable(w io.Writer, m *dump.Manifest) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tFILES\tBYTES")
	var rows, bytes int64
	files := 0
	for _, t := range m.Tables {
		var b int64
		for _, f := range t.Files {
			b += f.Bytes
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", t.Name, t.Rows, len(t.Files), b)
		rows, bytes, files = rows+t.Rows, bytes+b, files+len(t.Files)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\ndump %s: %d tables, %d rows, %d files, %.1f MB, snapshot %s\n",
		m.Location, len(m.Tables), rows, files, float64(bytes)/1e6, m.SnapshotTime.Format(time.RFC3339))
}

func commandLogger(e *env, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}
