package dump

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// Config configures an Exporter. Zero values mean the documented defaults.
type Config struct {
	// SourceURL is the connection string of a read-only role on the
	// source. Required.
	SourceURL string
	// AsOf is an SQL expression giving the time the source's data is as
	// of, the dump's snapshot time. Default "now()".
	AsOf string
	// MaxAge refuses a source whose data is older (its AsOf), as a run
	// does: a dump of an old backup would pass for fresh data. Zero: no
	// limit.
	MaxAge time.Duration
	// SourceName names the main source in a refusal. Default "main".
	SourceName string
	// Prefix is where dumps go in the bucket. Default "dumps/".
	Prefix string
	// Keep is how many complete dumps retention keeps. Default 7.
	Keep int
	// Workers is how many tables are exported at once, each on its own
	// connection attached to the snapshot. Default 2.
	Workers int
	// SplitSize starts a new file of a table once the current one has this
	// many compressed bytes. Default 256 MiB.
	SplitSize int64
	// Level is the gzip level (1 fastest … 9 smallest). Default 6.
	Level int
	// PseudonymKey keys the HMAC of pseudonymized columns; required when a
	// table pseudonymizes one, at least 16 bytes.
	PseudonymKey []byte
	// ApplicationName prefixes application_name on the source. Default
	// "metricgate dump".
	ApplicationName string
	// Tool is the manifest's tool ("metricgate <version>"). Default
	// "metricgate".
	Tool string
	// StatementTimeout bounds each table's COPY. Default 6h.
	StatementTimeout time.Duration
	// Sources are the connection strings of the databases of other roles
	// than main (ci, …), by role. A table whose source role is not here
	// is read from the main database (SourceURL), as GitLab falls back
	// to it for an undecomposed database.
	Sources map[string]Source
	// Overlap is subtracted from an incremental table's watermark: an
	// increment exports the rows with updated_at after the previous
	// snapshot time less Overlap, so that a transaction that committed
	// after that snapshot with an older updated_at is not missed.
	// Default 1h.
	Overlap time.Duration
	// FullEvery makes a dump full, not incremental, when the last full
	// dump's snapshot is older: a full dump corrects whatever increments
	// missed. Default 24h.
	FullEvery time.Duration
}

func (c Config) withDefaults() Config {
	c.AsOf = cmp.Or(c.AsOf, "now()")
	c.Prefix = cmp.Or(c.Prefix, "dumps/")
	c.Keep = cmp.Or(c.Keep, 7)
	c.Workers = cmp.Or(c.Workers, 2)
	c.SplitSize = cmp.Or(c.SplitSize, 256<<20)
	c.Level = cmp.Or(c.Level, 6)
	c.ApplicationName = cmp.Or(c.ApplicationName, "metricgate dump")
	c.Tool = cmp.Or(c.Tool, "metricgate")
	c.StatementTimeout = cmp.Or(c.StatementTimeout, 6*time.Hour)
	c.Overlap = cmp.Or(c.Overlap, time.Hour)
	c.FullEvery = cmp.Or(c.FullEvery, 24*time.Hour)
	return c
}

func (c Config) validate() error {
	switch {
	case c.SourceURL == "":
		return errors.New("dump: SourceURL: the source database is not set")
	case c.Keep < 1:
		return fmt.Errorf("dump: Keep %d: must be at least 1", c.Keep)
	case c.Workers < 1 || c.Workers > 32:
		return fmt.Errorf("dump: Workers %d: must be between 1 and 32", c.Workers)
	case c.SplitSize < 1<<10:
		return fmt.Errorf("dump: SplitSize %d: must be at least 1 KiB", c.SplitSize)
	case c.Level < 1 || c.Level > 9:
		return fmt.Errorf("dump: Level %d: must be between 1 and 9", c.Level)
	case len(c.Prefix) > 0 && c.Prefix[len(c.Prefix)-1] != '/':
		return fmt.Errorf("dump: Prefix %q: must end with /", c.Prefix)
	case c.Overlap < 0:
		return fmt.Errorf("dump: Overlap %s: must not be negative", c.Overlap)
	case c.FullEvery < 0:
		return fmt.Errorf("dump: FullEvery %s: must not be negative", c.FullEvery)
	}
	return nil
}

// Source is the database of a role other than main.
type Source struct {
	// URL is the connection string of a read-only role on it.
	URL string
	// AsOf is the SQL expression of its as-of time. Default "now()".
	AsOf string
	// MaxAge refuses it when its data is older (see Config.MaxAge).
	MaxAge time.Duration
	// Name names it in a refusal. Default its role.
	Name string
}

// Recorder records dumps in the history database (*history.Store) and
// keeps the watermarks of incremental tables, which an increment starts
// from.
type Recorder interface {
	StartDump(ctx context.Context, d history.Dump) (int64, error)
	FinishDump(ctx context.Context, d history.Dump) error
	// DumpWatermarks returns the watermarks of group's incremental
	// tables: the snapshot time of the last committed dump that read
	// each, and that dump's location.
	DumpWatermarks(ctx context.Context, group string) ([]history.Watermark, error)
	// CommitDumpWatermarks sets the watermarks of group to marks, those
	// of the dump at location.
	CommitDumpWatermarks(ctx context.Context, group, location string, marks map[string]time.Time) error
}

// Progress is a dump's progress so far.
type Progress struct {
	Tables, TablesDone int
	Rows, Bytes        int64
	Elapsed            time.Duration
	// Running are the tables being exported now, by name.
	Running []string
}

// Exporter writes dumps. Make one with New.
type Exporter struct {
	cfg      Config
	bucket   *blob.Bucket
	rec      Recorder
	log      *slog.Logger
	progress func(Progress)
	now      func() time.Time
}

// Deps are the Exporter's collaborators.
type Deps struct {
	// Bucket is the object storage (OpenBucket). Required.
	Bucket *blob.Bucket
	// Recorder records each dump and keeps the watermarks; nil records
	// nothing, and every dump is full (no watermark to start an
	// increment from).
	Recorder Recorder
	// Logger; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called about twice a second during a dump and
	// once at its end.
	Progress func(Progress)
}

// New returns an Exporter.
func New(cfg Config, deps Deps) (*Exporter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Bucket == nil {
		return nil, errors.New("dump: no bucket")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Exporter{cfg: cfg, bucket: deps.Bucket, rec: deps.Recorder, log: log, progress: deps.Progress, now: time.Now}, nil
}

// needsKey names the tables that pseudonymize a column.
func needsKey(def *Definition) []string {
	var out []string
	for _, t := range def.Tables {
		if len(t.Pseudonymize) > 0 {
			out = append(out, t.Name)
		}
	}
	return out
}

// Dump exports every table of def, writes the manifest last, records the
// dump and applies retention: an increment when the previous dump allows
// one (see Plan), a full dump otherwise. It is DumpKind with kind "".
func (e *Exporter) Dump(ctx context.Context, def *Definition) (*Manifest, error) {
	return e.DumpKind(ctx, def, "")
}

// DumpKind is Dump with the kind chosen: KindFull forces a full dump,
// KindIncremental an increment (an error when there is no base to apply
// it on; it skips the FullEvery rule), "" lets Plan choose. On failure no
// manifest is written: the files written so far are an incomplete dump
// that load ignores and retention removes, and the watermarks stay.
func (e *Exporter) DumpKind(ctx context.Context, def *Definition, kind warehouse.DumpMode) (*Manifest, error) {
	if tables := needsKey(def); len(tables) > 0 && len(e.cfg.PseudonymKey) < 16 {
		what := "not set"
		if len(e.cfg.PseudonymKey) > 0 {
			what = "shorter than 16 bytes"
		}
		return nil, fmt.Errorf("dump: the pseudonym key is %s, and tables %v pseudonymize columns: set dump.pseudonym_key (METRICGATE_DUMP_PSEUDONYM_KEY)", what, tables)
	}
	base, why, err := e.Plan(ctx, def, kind)
	if err != nil {
		return nil, err
	}
	rec := history.Dump{Group: def.Group, Status: history.DumpRunning, ConfigSHA256: def.SHA256, StartedAt: e.now(), Kind: history.DumpFull}
	if base != nil {
		rec.Kind, rec.Base = history.DumpIncremental, base.Location
	}
	runID := strconv.FormatInt(rec.StartedAt.UnixNano(), 10) // without a history: unique enough, ordered
	if e.rec != nil {
		id, err := e.rec.StartDump(ctx, rec)
		if err != nil {
			return nil, err
		}
		rec.ID, runID = id, strconv.FormatInt(id, 10)
	}
	if base == nil {
		e.log.Info("full dump", slog.String("why", why))
	}
	m, err := e.dump(ctx, def, runID, &rec, base, kind == "")
	if err == nil {
		err = e.commitWatermarks(ctx, def, m)
	}
	rec.FinishedAt = e.now()
	if err != nil {
		rec.Status, rec.Error = history.DumpFailed, err.Error()
	} else {
		rec.Status = history.DumpSucceeded
	}
	if e.rec != nil {
		ferr := e.rec.FinishDump(context.WithoutCancel(ctx), rec)
		if err == nil && ferr != nil {
			err = ferr
		}
	}
	if err != nil {
		return nil, err
	}
	if err := Retain(ctx, e.bucket, e.cfg.Prefix, e.cfg.Keep, e.log); err != nil {
		e.log.Warn("retention failed", slog.String("error", err.Error()))
		return m, err
	}
	return m, nil
}

// commitWatermarks advances the watermarks to the committed dump m.
func (e *Exporter) commitWatermarks(ctx context.Context, def *Definition, m *Manifest) error {
	if e.rec == nil {
		return nil
	}
	marks := map[string]time.Time{}
	for _, t := range m.Tables {
		if t.Keys != nil {
			marks[t.Name] = m.snapshotOf(def.table(t.Name))
		}
	}
	if err := e.rec.CommitDumpWatermarks(context.WithoutCancel(ctx), def.Group, m.Location, marks); err != nil {
		return fmt.Errorf("dump %s is written, but its watermarks are not (the next dump is full): %w", m.Location, err)
	}
	return nil
}

// dump writes the dump: an increment on base (unless fullEvery and the
// chain's full dump is due: fullDue), a full dump when base is nil. It
// opens the sources on their snapshots, starts the manifest, prepares a
// job per table, runs the jobs and writes the manifest last.
func (e *Exporter) dump(ctx context.Context, def *Definition, runID string, rec *history.Dump, base *Manifest, fullEvery bool) (*Manifest, error) {
	snap, err := e.openSnapshots(ctx, def)
	if snap != nil {
		defer snap.close(ctx)
	}
	if err != nil {
		return nil, err
	}
	at := snap.sources[MainRole].asOf.UTC()
	if base != nil && fullEvery {
		if why := e.fullDue(base, at); why != "" {
			e.log.Info("full dump", slog.String("why", why))
			base, rec.Kind, rec.Base = nil, history.DumpFull, ""
		}
	}
	m, err := e.startManifest(ctx, def, snap, rec, base, runID)
	if err != nil {
		return nil, err
	}
	log := e.log.With(slog.String("location", m.Location), slog.Int64("dump_id", rec.ID))
	log.Info("dump started", slog.String("group", def.Group), slog.String("kind", string(m.Kind)), slog.Time("snapshot_time", at), slog.Int("tables", len(def.Tables)))
	jobs, err := e.newJobs(ctx, def, snap, base, m.Location, log)
	if err != nil {
		return nil, err
	}
	if err := e.runJobs(ctx, jobs, log); err != nil {
		return nil, err
	}
	if err := e.finishManifest(ctx, m, jobs, base, rec, log); err != nil {
		return nil, err
	}
	return m, nil
}

// startManifest picks the dump's location, refuses one that already
// holds a complete dump, and returns the dump's manifest without its
// tables: an increment's on base, a full dump's when base is nil.
func (e *Exporter) startManifest(ctx context.Context, def *Definition, snap *snapshots, rec *history.Dump, base *Manifest, runID string) (*Manifest, error) {
	at := snap.sources[MainRole].asOf.UTC()
	location := e.cfg.Prefix + at.Format(time.DateOnly) + "/" + runID + "/"
	rec.Location, rec.SnapshotTime = location, at
	taken, err := e.bucket.Exists(ctx, location+ManifestName)
	if err != nil {
		return nil, fmt.Errorf("check dump location %s: %w", location, err)
	}
	if taken {
		return nil, fmt.Errorf("dump location %s already holds a complete dump (a reset history database?): not overwritten", location)
	}
	m := &Manifest{Format: ManifestFormat, Kind: KindFull, Tool: e.cfg.Tool, Group: def.Group, Location: location, SnapshotTime: at,
		StartedAt: rec.StartedAt.UTC(), ConfigSHA256: def.SHA256, FullSnapshotTime: at, ScopeSHA256: snap.scopeSum}
	if base != nil {
		m.Format, m.Kind, m.Base = IncrementFormat, KindIncremental, base.Location
		m.FullSnapshotTime = cmp.Or(base.FullSnapshotTime, base.SnapshotTime)
	}
	if len(snap.roles) > 1 {
		m.Snapshots = map[string]time.Time{}
		for r, src := range snap.sources {
			m.Snapshots[r] = src.asOf.UTC()
		}
	}
	if len(needsKey(def)) > 0 {
		m.Pseudonym = PseudonymScheme
	}
	return m, nil
}

// finishManifest adds the exported tables to m and to rec, and writes m
// to storage: the commit marker, written once everything else is.
func (e *Exporter) finishManifest(ctx context.Context, m *Manifest, jobs []*tableJob, base *Manifest, rec *history.Dump, log *slog.Logger) error {
	for _, j := range jobs {
		mt := ManifestTable{Name: j.table.Name, Rows: j.sink.rows, Columns: j.columns, Files: j.sink.files, Keys: j.keysFile}
		if j.prevKeys != nil {
			mt.Mode, mt.Key, mt.Deletes, mt.DeleteFiles = KindIncremental, j.table.Key, j.deletes, j.deleteFiles
			mt.Window = &Window{From: j.from.UTC(), To: j.to}
		} else if base != nil {
			mt.Mode = KindFull
		}
		m.Tables = append(m.Tables, mt)
		rec.Tables++
		rec.Files += len(mt.Files) + len(mt.DeleteFiles)
		rec.Rows += mt.Rows
		for _, f := range slices.Concat(mt.Files, mt.DeleteFiles) {
			rec.Bytes += f.Bytes
		}
	}
	m.FinishedAt = e.now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	// The commit marker: everything above is in place.
	if err := e.bucket.WriteAll(ctx, m.Location+ManifestName, append(data, '\n'), &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write %s%s: %w", m.Location, ManifestName, err)
	}
	log.Info("dump written", slog.String("kind", string(m.Kind)), slog.Int("tables", rec.Tables), slog.Int("files", rec.Files), slog.Int64("rows", rec.Rows), slog.Int64("bytes", rec.Bytes))
	return nil
}

// reportProgress calls the progress callback twice a second until stop.
func (e *Exporter) reportProgress(jobs []*tableJob, done *atomic.Int64) (stop func()) {
	if e.progress == nil {
		return func() {}
	}
	start := time.Now()
	snapshot := func() Progress {
		p := Progress{Tables: len(jobs), TablesDone: int(done.Load()), Elapsed: time.Since(start)}
		for _, j := range jobs {
			p.Rows += j.sink.rowsSeen.Load()
			p.Bytes += j.sink.bytesOut.Load()
			if j.running.Load() {
				p.Running = append(p.Running, j.table.Name)
			}
		}
		slices.Sort(p.Running)
		return p
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				e.progress(snapshot())
				return
			case <-t.C:
				e.progress(snapshot())
			}
		}
	}()
	return func() { close(quit); <-finished }
}
