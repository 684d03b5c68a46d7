package dump

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
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

// snapshotOf is the snapshot time t was read at.
func (m *Manifest) snapshotOf(t *Table) time.Time {
	if t != nil {
		if at, ok := m.Snapshots[t.Source]; ok {
			return at
		}
	}
	return m.SnapshotTime
}

func (def *Definition) table(name string) *Table {
	for _, t := range def.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// incrementalTables names the tables of def of mode incremental.
func (def *Definition) incrementalTables() []string {
	var out []string
	for _, t := range def.Tables {
		if t.Mode == KindIncremental {
			out = append(out, t.Name)
		}
	}
	return out
}

// Plan decides what the next dump of def is: an increment on base, or a
// full dump (base nil) for the reason why. kind is as for DumpKind. An
// increment needs every one of these, else the dump is full:
//
//   - a table of dump.yml has mode incremental, and there is a Recorder
//     (the history database) to keep the watermarks;
//   - every incremental table has a watermark, all of the same dump (the
//     base), and that dump is the newest complete one in storage (a dump
//     written while its watermarks were not — a crash between the two —
//     makes the next dump full rather than a second increment on the
//     same base);
//   - the base's manifest is there, was made with the same dump.yml
//     (config_sha256) and has the keys of every incremental table;
//   - the chain's full dump's snapshot is less than FullEvery older than
//     the new dump's (kind "" only); the dump checks this once it has
//     taken its snapshot, and Plan does not.
func (e *Exporter) Plan(ctx context.Context, def *Definition, kind warehouse.DumpMode) (base *Manifest, why string, err error) {
	switch kind {
	case "", KindFull, KindIncremental:
	default:
		return nil, "", fmt.Errorf("dump: kind %q: want full or incremental", kind)
	}
	base, why, err = e.plan(ctx, def, kind)
	if err == nil && base == nil && kind == KindIncremental {
		return nil, "", fmt.Errorf("dump: no increment possible: %s (run a full dump first)", why)
	}
	return base, why, err
}

func (e *Exporter) plan(ctx context.Context, def *Definition, kind warehouse.DumpMode) (*Manifest, string, error) {
	incr := def.incrementalTables()
	switch {
	case kind == KindFull:
		return nil, "asked for a full dump", nil
	case len(incr) == 0:
		return nil, "no table of " + def.Path + " has mode incremental", nil
	case e.rec == nil:
		return nil, "no history database to keep watermarks in", nil
	}
	marks, err := e.rec.DumpWatermarks(ctx, def.Group)
	if err != nil {
		return nil, "", err
	}
	if len(marks) == 0 {
		return nil, "no watermark yet: the first dump is full", nil
	}
	byTable := map[string]history.Watermark{}
	for _, w := range marks {
		byTable[w.Table] = w
	}
	location := marks[0].Location
	for _, name := range incr {
		w, ok := byTable[name]
		if !ok {
			return nil, fmt.Sprintf("table %s has no watermark (newly incremental)", name), nil
		}
		if w.Location != location {
			return nil, fmt.Sprintf("the watermarks belong to different dumps (%s, %s)", location, w.Location), nil
		}
	}
	dumps, err := listDumps(ctx, e.bucket, e.cfg.Prefix)
	if err != nil {
		return nil, "", err
	}
	newest := ""
	for _, d := range dumps {
		if d.complete {
			newest = d.location
		}
	}
	if newest != location {
		return nil, fmt.Sprintf("the watermarks belong to %s, but the newest complete dump in storage is %q", location, newest), nil
	}
	base, err := readManifest(ctx, e.bucket, location)
	if err != nil {
		return nil, "", err
	}
	if base.ConfigSHA256 != def.SHA256 {
		return nil, def.Path + " changed since the previous dump " + location, nil
	}
	for _, name := range incr {
		i := slices.IndexFunc(base.Tables, func(t ManifestTable) bool { return t.Name == name })
		if i < 0 || base.Tables[i].Keys == nil {
			return nil, fmt.Sprintf("the previous dump %s has no keys of table %s", location, name), nil
		}
	}
	return base, "", nil
}

// fullDue says why the dump at snapshot snap is full rather than an
// increment on base: the chain's full dump's snapshot is FullEvery or
// more older than snap. Snapshot against snapshot, not the wall clock: a
// source restored from a backup hours old reads as of the backup, and
// the full dump is due when the data, not the clock, moved on by
// FullEvery.
func (e *Exporter) fullDue(base *Manifest, snap time.Time) string {
	full := cmp.Or(base.FullSnapshotTime, base.SnapshotTime)
	if age := snap.Sub(full); age >= e.cfg.FullEvery {
		return fmt.Sprintf("the last full dump's snapshot is %s older than this one's (full_every %s): reconcile", age.Round(time.Minute), e.cfg.FullEvery)
	}
	return ""
}

// source is one database the dump reads, on a snapshot of its own.
type source struct {
	role     string
	url      string
	snapshot string
	asOf     time.Time
}

// roleOf is the role whose database holds t: its source role when that
// role has a database of its own, else main.
func (e *Exporter) roleOf(t *Table) string {
	if s, ok := e.cfg.Sources[t.Source]; ok && t.Source != MainRole && s.URL != "" && s.URL != e.cfg.SourceURL {
		return t.Source
	}
	return MainRole
}

// dump writes the dump: an increment on base (unless fullEvery and the
// chain's full dump is due: fullDue), a full dump when base is nil.
func (e *Exporter) dump(ctx context.Context, def *Definition, runID string, rec *history.Dump, base *Manifest, fullEvery bool) (*Manifest, error) {
	roles := []string{MainRole}
	for _, t := range def.Tables {
		if r := e.roleOf(t); !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	checkRole := func(r string) string {
		if len(roles) == 1 {
			return "" // one database holds every table
		}
		return r
	}
	sources := map[string]*source{}
	types := map[string]map[string]SourceColumn{}
	// The main database first: the scope of the other databases' tables
	// is computed in its snapshot.
	mainSrc, mainTx, err := e.openSource(ctx, MainRole, e.cfg.SourceURL, e.cfg.AsOf)
	if err != nil {
		return nil, err
	}
	defer mainSrc.close(ctx)
	sources[MainRole] = mainSrc.source
	have, err := CheckSourceRole(ctx, mainTx, def, checkRole(MainRole))
	if err != nil {
		return nil, err
	}
	maps.Copy(types, have)
	var scopeRoot int
	if err := mainTx.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(def.Schema)+`.routes WHERE source_type = 'Namespace' AND lower(path) = lower($1)`, def.Group).Scan(&scopeRoot); err != nil {
		return nil, fmt.Errorf("look up group %s: %w", def.Group, err)
	}
	if scopeRoot == 0 {
		return nil, fmt.Errorf("group %s: no such group in the source", def.Group)
	}
	var remote *remoteScope
	if len(roles) > 1 {
		withMRs := slices.ContainsFunc(def.Tables, func(t *Table) bool { return e.roleOf(t) != MainRole && t.Scope.Kind == "pipeline" })
		remote = &remoteScope{}
		if err := mainTx.QueryRow(ctx, def.scope(nil).remoteQuery(withMRs)).Scan(&remote.groups, &remote.projects, &remote.mergeRequests); err != nil {
			return nil, fmt.Errorf("read the scope for the other databases (%s): %w", strings.Join(roles[1:], ", "), err)
		}
	}
	var scopeSum string
	if len(def.incrementalTables()) > 0 {
		if err := mainTx.QueryRow(ctx, def.scopeSHA256SQL()).Scan(&scopeSum); err != nil {
			return nil, fmt.Errorf("digest the scope's groups and projects: %w", err)
		}
	}
	estimates, err := estimateRows(ctx, mainTx, def)
	if err != nil {
		return nil, err
	}
	for _, r := range roles[1:] {
		src, tx, err := e.openSource(ctx, r, e.cfg.Sources[r].URL, cmp.Or(e.cfg.Sources[r].AsOf, "now()"))
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", r, err)
		}
		defer src.close(ctx)
		sources[r] = src.source
		have, err := CheckSourceRole(ctx, tx, def, r)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", r, err)
		}
		maps.Copy(types, have)
		est, err := estimateRows(ctx, tx, def)
		if err != nil {
			return nil, err
		}
		for _, t := range def.Tables {
			if e.roleOf(t) == r {
				estimates[t.Name] = est[t.Name]
			}
		}
	}
	snap := mainSrc.asOf.UTC()
	if base != nil && fullEvery {
		if why := e.fullDue(base, snap); why != "" {
			e.log.Info("full dump", slog.String("why", why))
			base, rec.Kind, rec.Base = nil, history.DumpFull, ""
		}
	}
	location := e.cfg.Prefix + snap.Format(time.DateOnly) + "/" + runID + "/"
	rec.Location, rec.SnapshotTime = location, snap
	taken, err := e.bucket.Exists(ctx, location+ManifestName)
	if err != nil {
		return nil, fmt.Errorf("check dump location %s: %w", location, err)
	}
	if taken {
		return nil, fmt.Errorf("dump location %s already holds a complete dump (a reset history database?): not overwritten", location)
	}
	m := &Manifest{Format: ManifestFormat, Kind: KindFull, Tool: e.cfg.Tool, Group: def.Group, Location: location, SnapshotTime: snap,
		StartedAt: rec.StartedAt.UTC(), ConfigSHA256: def.SHA256, FullSnapshotTime: snap, ScopeSHA256: scopeSum}
	if base != nil {
		m.Format, m.Kind, m.Base = IncrementFormat, KindIncremental, base.Location
		m.FullSnapshotTime = cmp.Or(base.FullSnapshotTime, base.SnapshotTime)
	}
	if len(roles) > 1 {
		m.Snapshots = map[string]time.Time{}
		for r, src := range sources {
			m.Snapshots[r] = src.asOf.UTC()
		}
	}
	if len(needsKey(def)) > 0 {
		m.Pseudonym = PseudonymScheme
	}
	log := e.log.With(slog.String("location", location), slog.Int64("dump_id", rec.ID))
	log.Info("dump started", slog.String("group", def.Group), slog.String("kind", string(m.Kind)), slog.Time("snapshot_time", snap), slog.Int("tables", len(def.Tables)))

	jobs := make([]*tableJob, len(def.Tables))
	for i, t := range def.Tables {
		role := e.roleOf(t)
		var r *remoteScope
		if role != MainRole {
			r = remote
		}
		jobs[i] = e.newJob(def, t, types[t.Name], location, r)
		jobs[i].estimate = estimates[t.Name]
		jobs[i].src = sources[role]
		if t.Mode == KindIncremental {
			jobs[i].keys = true
			if base != nil {
				bt := base.Tables[slices.IndexFunc(base.Tables, func(bt ManifestTable) bool { return bt.Name == t.Name })]
				jobs[i].prevKeys = bucketFile(e.bucket, base.Location+bt.Keys.Path, *bt.Keys)
				jobs[i].from = base.snapshotOf(t).Add(-e.cfg.Overlap)
				jobs[i].to = sources[role].asOf.UTC()
				// The same groups and projects in the scope as at the base:
				// only rows that changed can have entered or left it.
				jobs[i].fast = role == MainRole && len(roles) == 1 && scopeSum != "" && base.ScopeSHA256 == scopeSum
			}
		}
	}
	cache := &keyCache{keys: map[string][]int64{}}
	for _, j := range jobs {
		j.baseKeys = cache
	}
	if slices.ContainsFunc(jobs, func(j *tableJob) bool { return j.fast }) {
		start := time.Now()
		changed, err := e.changedEntities(ctx, mainTx, def, base, jobs, cache)
		if err != nil {
			return nil, err
		}
		log.Info("changed objects found", slog.Int("issues", len(changed["issue"])), slog.Int("merge_requests", len(changed["merge_request"])),
			slog.Int("notes", len(changed["note"])), slog.Int("pipelines", len(changed["pipeline"])), slog.Duration("duration", time.Since(start)))
		for _, j := range jobs {
			j.changed = changed
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *tableJob, len(jobs))
	for _, j := range slices.SortedFunc(slices.Values(jobs), func(a, b *tableJob) int { return cmp.Compare(b.estimate, a.estimate) }) {
		next <- j
	}
	close(next)
	var done atomic.Int64
	stop := e.reportProgress(jobs, &done)
	var wg sync.WaitGroup
	for w := range min(e.cfg.Workers, len(jobs)) {
		wg.Go(func() {
			conns := map[string]*pgx.Conn{}
			defer func() {
				for _, c := range conns {
					closeConn(ctx, c)
				}
			}()
			for j := range next {
				if ctx.Err() != nil {
					return
				}
				conn := conns[j.src.role]
				if conn == nil {
					var err error
					conn, err = connect(ctx, j.src.url, fmt.Sprintf("%s worker %d", e.cfg.ApplicationName, w+1))
					if err != nil {
						cancel(err)
						return
					}
					conns[j.src.role] = conn
				}
				start := time.Now()
				if err := j.run(ctx, conn, e.cfg); err != nil {
					cancel(fmt.Errorf("export table %s: %w", j.table.Name, err))
					return
				}
				done.Add(1)
				log.Info("table exported", slog.String("table", j.table.Name), slog.String("mode", string(j.mode())), slog.Int64("rows", j.sink.rows),
					slog.Int64("deletes", j.deletes), slog.Int("files", len(j.sink.files)), slog.Duration("keys_duration", j.keysTime), slog.Duration("duration", time.Since(start)), slog.Group("keys_phases", j.phases...))
			}
		})
	}
	wg.Wait()
	stop()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
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
		return nil, err
	}
	// The commit marker: everything above is in place.
	if err := e.bucket.WriteAll(ctx, location+ManifestName, append(data, '\n'), &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return nil, fmt.Errorf("write %s%s: %w", location, ManifestName, err)
	}
	log.Info("dump written", slog.String("kind", string(m.Kind)), slog.Int("tables", rec.Tables), slog.Int("files", rec.Files), slog.Int64("rows", rec.Rows), slog.Int64("bytes", rec.Bytes))
	return m, nil
}

// openedSource is a source's coordinator: the transaction whose snapshot
// the workers attach to.
type openedSource struct {
	*source
	conn *pgx.Conn
	tx   pgx.Tx
}

func (o *openedSource) close(ctx context.Context) {
	_ = o.tx.Rollback(context.WithoutCancel(ctx)) // read-only: nothing to keep
	closeConn(ctx, o.conn)
}

// openSource opens the coordinator of one database: a REPEATABLE READ,
// READ ONLY transaction whose snapshot it exports, and reads its as-of
// time.
func (e *Exporter) openSource(ctx context.Context, role, url, asOfSQL string) (*openedSource, pgx.Tx, error) {
	name := e.cfg.ApplicationName + " coordinator"
	if role != MainRole {
		name += " " + role
	}
	coord, err := connect(ctx, url, name)
	if err != nil {
		return nil, nil, err
	}
	tx, err := coord.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		closeConn(ctx, coord)
		return nil, nil, fmt.Errorf("begin snapshot transaction: %w", err)
	}
	o := &openedSource{source: &source{role: role, url: url}, conn: coord, tx: tx}
	fail := func(err error) (*openedSource, pgx.Tx, error) {
		o.close(ctx)
		return nil, nil, err
	}
	// The coordinator sits idle while the workers copy, and must outlive
	// them: they attach to its snapshot table by table.
	if _, err := tx.Exec(ctx, "SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
		strconv.FormatInt((e.cfg.StatementTimeout+10*time.Minute).Milliseconds(), 10)); err != nil {
		return fail(fmt.Errorf("set idle timeout: %w", err))
	}
	var asOf *time.Time
	if err := tx.QueryRow(ctx, "SELECT ("+asOfSQL+")::timestamptz").Scan(&asOf); err != nil {
		return fail(fmt.Errorf("read as_of (%s): %w", asOfSQL, err))
	}
	if asOf == nil {
		return fail(fmt.Errorf("as_of (%s) is NULL: the source looks empty", asOfSQL))
	}
	o.asOf = *asOf
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&o.snapshot); err != nil {
		return fail(fmt.Errorf("export snapshot: %w", err))
	}
	return o, tx, nil
}

// tableJob is one table's export.
type tableJob struct {
	table    *Table
	sql      string
	columns  []ManifestColumn
	sink     *sink
	estimate int64
	location string
	src      *source
	def      *Definition
	remote   *remoteScope
	arrays   map[string]bool
	level    int

	// keys: write the keys of the scope (an incremental table).
	keys     bool
	keysFile *ManifestFile
	keysTime time.Duration
	phases   []any
	// prevKeys, in an increment, are the base's keys: the table is
	// exported as changes since from.
	prevKeys *warehouse.DumpFile
	baseKeys *keyCache
	from, to time.Time
	// fast: find the changes among the candidates (candidatesSQL) instead
	// of comparing every key of the scope; changed are the objects that
	// entered or left the scope, by kind (changedEntities).
	fast        bool
	changed     map[string][]int64
	deletes     int64
	deleteFiles []ManifestFile
}

func (j *tableJob) mode() warehouse.DumpMode {
	if j.prevKeys != nil {
		return KindIncremental
	}
	return KindFull
}

func (e *Exporter) newJob(def *Definition, t *Table, cols map[string]SourceColumn, location string, remote *remoteScope) *tableJob {
	j := &tableJob{table: t, location: location, def: def, remote: remote, level: e.cfg.Level}
	arrays := map[string]bool{}
	pseudo := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		sc := cols[c]
		mc := ManifestColumn{Name: c, Type: sc.UDT, SQLType: sc.SQL, Precision: sc.Precision, Scale: sc.Scale}
		if len(sc.UDT) > 1 && sc.UDT[0] == '_' {
			arrays[c] = true
			mc.Encoding = encodingJSON
		}
		if t.Pseudonymized(c) {
			pseudo[i] = true
			mc.Encoding = encodingHMAC
		}
		j.columns = append(j.columns, mc)
	}
	j.arrays = arrays
	j.sql = def.selectSQL(t, arrays, remote, "")
	j.sink = newSink(context.Background(), e.bucket, location, t.Name, e.cfg.SplitSize, e.cfg.Level, pseudo, e.cfg.PseudonymKey)
	return j
}

// run copies the table out in a transaction attached to its source's
// snapshot: for an incremental table its keys first, and in an increment
// only the rows changed or entered since the base, and the keys that
// left.
func (j *tableJob) run(ctx context.Context, conn *pgx.Conn, cfg Config) (err error) {
	j.sink.ctx = ctx
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // read-only
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(j.src.snapshot)); err != nil {
		return fmt.Errorf("attach to the dump's snapshot: %w", err)
	}
	// The text forms every loader reads: ISO dates, UTC offsets, shortest
	// exact floats.
	if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
		set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true),
		set_config('bytea_output', 'hex', true), set_config('statement_timeout', $1, true)`,
		strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("set output formats: %w", err)
	}
	query := j.sql
	if j.prevKeys != nil && j.fast {
		upserts, err := j.candidates(ctx, conn, cfg)
		if err != nil {
			return err
		}
		query = j.def.upsertsSQL(j.table, j.arrays, upserts)
	} else if j.keys {
		keys, err := j.exportKeys(ctx, conn, cfg)
		if err != nil {
			return err
		}
		if j.prevKeys != nil {
			prev, err := readKeys(ctx, j.prevKeys)
			if err != nil {
				return err
			}
			entered, left := diffKeys(prev, keys)
			if err := j.writeDeletes(ctx, cfg, left); err != nil {
				return err
			}
			query = j.def.selectSQL(j.table, j.arrays, j.remote, changedSQL(j.table, j.from, entered))
		}
	}
	if _, err := conn.PgConn().CopyTo(ctx, j.sink, "COPY ("+query+") TO STDOUT (FORMAT csv, HEADER)"); err != nil {
		return j.sink.abort(fmt.Errorf("copy: %w", err))
	}
	return j.sink.finish()
}

// candidates works out an increment of the table from the rows that may
// have changed (candidatesSQL): the keys now are the base's, less the
// rows deleted (no longer in the table) and the candidates out of the
// scope, plus the candidates in it; those are the upserts, and the
// base's keys not kept are the deletes.
func (j *tableJob) candidates(ctx context.Context, conn *pgx.Conn, cfg Config) ([]int64, error) {
	start := time.Now()
	defer func() { j.keysTime = time.Since(start) }()
	lap := func(name string) {
		j.phases = append(j.phases, slog.Duration(name, time.Since(start)))
	}
	prev, err := j.baseKeys.read(ctx, j.prevKeys)
	if err != nil {
		return nil, err
	}
	lap("read_prev")
	// The keys that may be gone: every key of the table, in the scope or
	// not, read here and never written anywhere (a summary of them in the
	// dump would count the rows out of the scope; see # Increments in the
	// package documentation).
	var all keySink
	if _, err := conn.PgConn().CopyTo(ctx, &all, "COPY ("+j.def.allKeysSQL(j.table)+") TO STDOUT (FORMAT csv)"); err != nil {
		return nil, fmt.Errorf("copy keys: %w", err)
	}
	lap("all_keys")
	slices.Sort(all.keys)
	lap("sort")
	var cs keySink
	cs.flag = true
	if _, err := conn.PgConn().CopyTo(ctx, &cs, "COPY ("+j.def.candidatesSQL(j.table, j.from, j.changed)+") TO STDOUT (FORMAT csv)"); err != nil {
		return nil, fmt.Errorf("copy changed keys: %w", err)
	}
	lap("candidates")
	if len(all.pending) > 0 || len(cs.pending) > 0 {
		return nil, errors.New("copy keys: the stream ended inside a row")
	}
	// Every step a merge of sorted lists: a map of the candidates and a
	// binary search per key of the base cost more than the queries.
	cands := make([]candidate, len(cs.keys))
	for i, k := range cs.keys {
		cands[i] = candidate{key: k, in: cs.flags[i]}
	}
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(a.key, b.key) })
	var upserts []int64
	for _, c := range cands {
		if c.in {
			upserts = append(upserts, c.key)
		}
	}
	upserts = slices.Compact(upserts)
	kept, left := make([]int64, 0, len(prev)), []int64(nil)
	ai, ci := 0, 0
	for _, k := range prev {
		for ai < len(all.keys) && all.keys[ai] < k {
			ai++
		}
		exists := ai < len(all.keys) && all.keys[ai] == k
		for ci < len(cands) && cands[ci].key < k {
			ci++
		}
		if ci < len(cands) && cands[ci].key == k && !cands[ci].in {
			exists = false // a candidate now out of the scope
		}
		if exists {
			kept = append(kept, k)
		} else {
			left = append(left, k)
		}
	}
	keys := mergeKeys(kept, upserts)
	lap("compare")
	if len(left) == 0 && len(keys) == len(prev) {
		// No key left and none entered (keys ⊇ prev, as long): the base's
		// keys file, verified as it was read, copied as it is rather than
		// compressed again.
		f := ManifestFile{Path: j.table.Name + ".keys.csv.gz", SHA256: j.prevKeys.SHA256(), Bytes: j.prevKeys.Bytes, Rows: j.prevKeys.Rows}
		if err := j.sink.bucket.Copy(ctx, j.location+f.Path, j.prevKeys.Name, nil); err != nil {
			return nil, fmt.Errorf("copy the keys file %s to %s: %w", j.prevKeys.Name, j.location+f.Path, err)
		}
		j.keysFile = &f
	} else {
		files, err := writeKeyFile(ctx, j.sink.bucket, j.location, j.table.Name+".keys", j.table.Key, keys, keysLevel)
		if err != nil {
			return nil, err
		}
		j.keysFile = &files[0]
	}
	lap("write_keys")
	if err := j.writeDeletes(ctx, cfg, left); err != nil {
		return nil, err
	}
	lap("write_deletes")
	return upserts, nil
}

// candidate is a key of candidatesSQL and whether it is in the scope.
type candidate struct {
	key int64
	in  bool
}

// mergeKeys is the sorted union of two sorted lists of keys.
func mergeKeys(a, b []int64) []int64 {
	out := make([]int64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// changedEntities works out, in the main snapshot, the objects of each
// kind the fast jobs' scopes read that entered or left the scope since
// the base: those that changed (changedEntitySQL) whose status now
// differs from the base's (their key among the base's keys of the
// table of that kind, when the table is incremental; else every changed
// one counts). Rows pointing at any other object keep their status.
func (e *Exporter) changedEntities(ctx context.Context, tx pgx.Tx, def *Definition, base *Manifest, jobs []*tableJob, cache *keyCache) (map[string][]int64, error) {
	need := map[string]bool{}
	var from time.Time
	for _, j := range jobs {
		if !j.fast {
			continue
		}
		from = j.from
		switch k := j.table.Scope.Kind; k {
		case "target", "event":
			for _, tt := range targetTypes {
				need[tt.kind] = true
			}
		default:
			need[k] = true
		}
	}
	if need["note"] {
		need["issue"], need["merge_request"] = true, true
	}
	if need["pipeline"] {
		need["merge_request"] = true
	}
	changed := map[string][]int64{}
	for _, kind := range entityKinds {
		if !need[kind] {
			continue
		}
		var prev []int64
		known := false
		if t := def.table(entityTable[kind]); t != nil && t.Mode == KindIncremental && t.Scope.Kind == kind && t.Scope.Column == "id" && t.Key == "id" {
			i := slices.IndexFunc(base.Tables, func(bt ManifestTable) bool { return bt.Name == t.Name })
			if i >= 0 && base.Tables[i].Keys != nil {
				k := base.Tables[i].Keys
				var err error
				if prev, err = cache.read(ctx, bucketFile(e.bucket, base.Location+k.Path, *k)); err != nil {
					return nil, err
				}
				known = true
			}
		}
		rows, err := tx.Query(ctx, def.changedEntitySQL(kind, from, changed))
		if err != nil {
			return nil, fmt.Errorf("read the changed objects of kind %s: %w", kind, err)
		}
		for rows.Next() {
			var id int64
			var in bool
			if err := rows.Scan(&id, &in); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the changed objects of kind %s: %w", kind, err)
			}
			if _, was := slices.BinarySearch(prev, id); !known || was != in {
				changed[kind] = append(changed[kind], id)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read the changed objects of kind %s: %w", kind, err)
		}
		slices.Sort(changed[kind])
	}
	return changed, nil
}

// keySink collects the keys of a COPY … (FORMAT csv) of one integer
// column.
type keySink struct {
	keys    []int64
	pending []byte
	// flag: each row is key,t or key,f (a key and whether it is in the
	// scope), kept in flags.
	flag  bool
	flags []bool
}

func (k *keySink) Write(p []byte) (int, error) {
	buf := p
	if len(k.pending) > 0 {
		k.pending = append(k.pending, p...)
		buf = k.pending
	}
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := buf[:i]
		if k.flag {
			c := bytes.LastIndexByte(line, ',')
			if c < 0 {
				return 0, fmt.Errorf("changed key %q: want key,flag", line)
			}
			k.flags = append(k.flags, string(line[c+1:]) == "t")
			line = line[:c]
		}
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("key %q: not an integer: the key of an incremental table must be an integer column", line)
		}
		k.keys = append(k.keys, n)
		buf = buf[i+1:]
	}
	k.pending = append(k.pending[:0], buf...)
	return len(p), nil
}

// exportKeys reads the key of every row in the scope, sorted, and writes
// them to <table>.keys.csv.gz.
func (j *tableJob) exportKeys(ctx context.Context, conn *pgx.Conn, cfg Config) ([]int64, error) {
	var ks keySink
	start := time.Now()
	defer func() { j.keysTime = time.Since(start) }()
	if _, err := conn.PgConn().CopyTo(ctx, &ks, "COPY ("+j.def.keysSQL(j.table, j.remote)+") TO STDOUT (FORMAT csv)"); err != nil {
		return nil, fmt.Errorf("copy keys: %w", err)
	}
	if len(ks.pending) > 0 {
		return nil, errors.New("copy keys: the stream ended inside a row")
	}
	slices.Sort(ks.keys)
	files, err := writeKeyFile(ctx, j.sink.bucket, j.location, j.table.Name+".keys", j.table.Key, ks.keys, keysLevel)
	if err != nil {
		return nil, err
	}
	j.keysFile = &files[0]
	return ks.keys, nil
}

func (j *tableJob) writeDeletes(ctx context.Context, cfg Config, left []int64) error {
	files, err := writeKeyFile(ctx, j.sink.bucket, j.location, j.table.Name+".deletes", j.table.Key, left, cfg.Level)
	if err != nil {
		return err
	}
	j.deletes, j.deleteFiles = int64(len(left)), files
	return nil
}

// keysLevel is the gzip level of the keys files: they are read by the
// next dump only, and sorted integers compress well at any level.
const keysLevel = 1

// writeKeyFile writes keys, one a row under a header, as name.csv.gz in
// one file.
func writeKeyFile(ctx context.Context, b *blob.Bucket, location, name, key string, keys []int64, level int) ([]ManifestFile, error) {
	s := newSink(ctx, b, location, name, math.MaxInt64, level, nil, nil)
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, quoteIdentCSV(key)...)
	buf = append(buf, '\n')
	for _, k := range keys {
		buf = strconv.AppendInt(buf, k, 10)
		buf = append(buf, '\n')
		if len(buf) >= 60<<10 {
			if _, err := s.Write(buf); err != nil {
				return nil, s.abort(err)
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := s.Write(buf); err != nil {
			return nil, s.abort(err)
		}
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return s.files, nil
}

// quoteIdentCSV is a column name as a CSV header field (identifiers need
// no quoting).
func quoteIdentCSV(s string) string { return s }

// keyCache holds the base's keys files read so far in a dump: the
// changed objects (changedEntities) and the table's own job read the
// same ones.
type keyCache struct {
	mu   sync.Mutex
	keys map[string][]int64
}

// read is readKeys, once per file.
func (c *keyCache) read(ctx context.Context, f *warehouse.DumpFile) ([]int64, error) {
	c.mu.Lock()
	keys, ok := c.keys[f.Name]
	c.mu.Unlock()
	if ok {
		return keys, nil
	}
	keys, err := readKeys(ctx, f)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.keys[f.Name] = keys
	c.mu.Unlock()
	return keys, nil
}

// readKeys reads a keys file of an earlier dump, verified against its
// manifest.
func readKeys(ctx context.Context, f *warehouse.DumpFile) ([]int64, error) {
	r, err := f.OpenCSV(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the previous dump's keys: %w", err)
	}
	defer func() { _ = r.Close() }() // read-only
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the previous dump's keys: %w", err)
	}
	_, body, _ := bytes.Cut(data, []byte{'\n'})
	var ks keySink
	if _, err := ks.Write(body); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	if int64(len(ks.keys)) != f.Rows {
		return nil, &warehouse.CorruptError{File: f.Name, Why: fmt.Sprintf("%d keys, the manifest says %d", len(ks.keys), f.Rows)}
	}
	if !slices.IsSorted(ks.keys) {
		return nil, &warehouse.CorruptError{File: f.Name, Why: "keys not sorted"}
	}
	return ks.keys, nil
}

// diffKeys returns the keys of cur not in prev (rows that entered the
// scope) and of prev not in cur (rows deleted or gone out of the scope).
// Both inputs are sorted.
func diffKeys(prev, cur []int64) (entered, left []int64) {
	i, j := 0, 0
	for i < len(prev) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(prev) && prev[i] < cur[j]):
			left = append(left, prev[i])
			i++
		case i == len(prev) || cur[j] < prev[i]:
			entered = append(entered, cur[j])
			j++
		default:
			i++
			j++
		}
	}
	return entered, left
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
		}
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

// connect opens a source connection whose application_name shows in
// pg_stat_activity. Errors never quote the connection string.
func connect(ctx context.Context, url, appName string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("parse the source URL: malformed connection string")
	}
	cfg.RuntimeParams["application_name"] = appName
	ctx, cancel := context.WithTimeoutCause(ctx, 30*time.Second, errors.New("connect to the source: timed out after 30s"))
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the source: %w", err)
	}
	return conn, nil
}

func closeConn(ctx context.Context, c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.Close(ctx) // nothing to keep on a read-only connection
}

// estimateRows returns the planner's row estimate of each table, so that
// the biggest tables start first and the workers finish together.
func estimateRows(ctx context.Context, tx pgx.Tx, def *Definition) (map[string]int64, error) {
	names := make([]string, len(def.Tables))
	for i, t := range def.Tables {
		names[i] = t.Name
	}
	rows, err := tx.Query(ctx, `SELECT c.relname::text, greatest(c.reltuples, 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY ($2)`, def.Schema, names)
	if err != nil {
		return nil, fmt.Errorf("estimate table sizes: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("estimate table sizes: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}
